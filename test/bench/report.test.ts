// The report's charts on data made for them (synthetic results files with known medians and
// a cost model that fits exactly), checked where the marks land in the SVG; never timings.
import { describe, expect, it } from 'vitest';
import { presetMatrix } from '../../src/bench/matrix.js';
import { buildReport } from '../../src/bench/report.js';
import type { CaseRecord, ResultsFile } from '../../src/bench/results.js';
import { summarize } from '../../src/bench/stats.js';
import { caseId, type BenchCase } from '../../src/bench/types.js';

const SIZES = [4096, 65536, 2097152];
/** Known cost: 3000 ns + 20 ns per PTE + 1500 ns per PTE run. */
const cost = (ptes: number): number => 3000 + 20 * ptes + 1500;

function file(name: string, factor: number): ResultsFile {
  const cases = SIZES.map((size, index): CaseRecord => {
    // move 4K pte->pte private-anon pop=1, resized.
    const params: BenchCase = { ...presetMatrix('quick').cases[0]!, size, newSize: size };
    const m = cost(size / 4096) * factor;
    // 21 samples, symmetric around m within ±1%: median m, a narrow CI.
    const samples = Array.from({ length: 21 }, (_, i) => m * (1 + (i - 10) / 1000));
    return {
      type: 'case',
      index,
      id: caseId(params),
      params,
      status: 'ok',
      layout: { src: '0x0', dst: '0x0', regionLo: '0x0', regionHi: '0x0', neighbour: null },
      plan: {
        kind: 'move',
        summary: '',
        realigned: false,
        realignReason: '',
        relocation: false,
        counts: { pte: 1 },
        ptes: size / 4096,
        pmds: 0,
        puds: 0,
        folios: 0,
        pteRuns: 1,
        expect: { present: size / 4096, thpPages: 0, mergedBelow: false },
        warnings: [],
      },
      observed: null,
      samples,
      stats: summarize(samples),
      durationMs: 1,
      finishedAt: '',
    };
  });
  const header = {
    type: 'header',
    toolVersion: '0.1.0',
    kernel: 'test',
    // compare reads probe.accel (host vs a vm guest's accelerator) from every header.
    probe: {},
    cpu: { model: 'test', count: 1 },
    thp: { enabled: 'madvise', defrag: 'madvise' },
    matrix: { source: 'synthetic', samples: 21, warmup: 0, caseIds: cases.map((c) => c.id) },
    options: { pin: null, isolated: true, verify: true },
    command: [],
    createdAt: '',
  } as unknown as ResultsFile['header'];
  return { file: name, header, cases, torn: null };
}

/** [x, y] of each point (symbol) of a layer in a rendered chart, with its aria label. */
function points(svg: string): { label: string; x: number; y: number }[] {
  return [
    ...svg.matchAll(
      /<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="point" transform="translate\(([-\d.e]+),([-\d.e]+)\)"/g,
    ),
  ].map((m) => ({ label: m[1]!, x: Number(m[2]), y: Number(m[3]) }));
}

describe('report charts on synthetic data', () => {
  const a = file('a.jsonl', 1);
  const b = file('b.jsonl', 1.5);

  it('has the charts the data allow, and the comparison as an HTML table', async () => {
    const { html, charts } = await buildReport([a, b]);
    expect(charts.map((c) => c.name)).toEqual([
      'time-vs-size',
      'measured-vs-model',
      'ab',
      'ab-ratio',
    ]);
    expect(html).not.toContain('<pre>');
    expect(html).toMatch(
      /<h2>Comparison<\/h2><table><thead><tr><th>case<\/th><th>base median<\/th>/,
    );
    expect((html.match(/<td>regressed<\/td>/g) ?? []).length).toBe(3);
    const one = await buildReport([a]);
    expect(one.charts.map((c) => c.name)).toEqual(['time-vs-size', 'measured-vs-model']);
  });

  it('A/B medians: every point placed, B 1.5× A at the same log distance for every case', async () => {
    const { charts } = await buildReport([a, b]);
    const pts = points(charts.find((c) => c.name === 'ab')!.svg);
    expect(pts).toHaveLength(6);
    const xs = (f: string) =>
      SIZES.map((s) => {
        const id = caseId({ ...a.cases[0]!.params, size: s, newSize: s }).replace('>', '&gt;');
        return pts.find((p) => p.label.includes(`id: ${id};`) && p.label.includes(`file: ${f}`))!.x;
      });
    const xa = xs('1: a.jsonl');
    const xb = xs('2: b.jsonl');
    for (const x of [...xa, ...xb]) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThanOrEqual(520);
    }
    // Larger median, further right; a constant ratio is a constant distance on a log scale.
    expect(xa[0]!).toBeLessThan(xa[1]!);
    expect(xa[1]!).toBeLessThan(xa[2]!);
    const gaps = xa.map((x, i) => xb[i]! - x);
    expect(gaps[0]!).toBeGreaterThan(5);
    expect(gaps[1]!).toBeCloseTo(gaps[0]!, 6);
    expect(gaps[2]!).toBeCloseTo(gaps[0]!, 6);
  });

  it('A/B ratios: every case at 1.5, regressed', async () => {
    const { charts } = await buildReport([a, b]);
    const pts = points(charts.find((c) => c.name === 'ab-ratio')!.svg);
    expect(pts).toHaveLength(3);
    for (const p of pts) {
      expect(p.label).toMatch(/^ratio: 1\.5; id: .*; verdict: regressed$/);
      expect(p.x).toBeCloseTo(pts[0]!.x, 6);
    }
  });

  it('measured vs model: an exact fit puts every point on the diagonal', async () => {
    const { charts, html } = await buildReport([a]);
    // Every case is one PTE run, so the constant and the run cost are one term (4500 ns).
    expect(html).toContain(
      'cost model (3 cases, relative RMS error 0.0%): fixed 4500 ns + 20.00 ns/PTE',
    );
    const pts = points(charts.find((c) => c.name === 'measured-vs-model')!.svg);
    expect(pts).toHaveLength(3);
    // 420×420, equal log domains: on the diagonal y = 420 − x.
    for (const p of pts) expect(p.x + p.y).toBeCloseTo(420, 4);
  });
});
