// A real (tiny) benchmark end to end through the CLI: samples, a valid results file, an
// interrupted run that keeps its finished cases and resumes, compare of a file with itself,
// and the report. Nothing here asserts a duration.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '../../src/bench/results.js';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist/cli/main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-bench-run-'));
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

const matrix = path.join(tmp, 'tiny.json');
fs.writeFileSync(
  matrix,
  JSON.stringify({
    samples: 5,
    warmup: 1,
    cases: [
      { size: ['4K', '2M'], src: ['pte', 'pmd'], dst: 'same' },
      { size: '64K', kind: 'shared-anon' },
      { size: '64K', flags: ['RELOCATE_ANON'] },
    ],
  }),
);

describe('bench end to end', () => {
  const out = path.join(tmp, 'a.jsonl');
  beforeAll(() => {
    const r = run(['bench', '--matrix', matrix, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('writes a header and one valid record per case, with samples, plan and observed layout', () => {
    const f = readResults(out);
    expect(f.header.kernel).toBe(os.release());
    expect(f.header.probe.release).toBe(os.release());
    expect(f.cases).toHaveLength(6);
    const ok = f.cases.filter((c) => c.status === 'ok');
    expect(ok.length).toBeGreaterThanOrEqual(5);
    for (const c of ok) {
      expect(c.samples).toHaveLength(5);
      expect(c.samples.every((s) => s > 0)).toBe(true);
      expect(c.stats!.median).toBeGreaterThan(0);
      expect(c.observed!.present).toBe(c.plan.expect.present);
    }
    const pmd = f.cases.find((c) => c.id === 'move 2M pmd->pmd private-anon pop=1')!;
    expect(pmd.plan.pmds).toBe(1);
    const reloc = f.cases.find((c) => c.params.flags.includes('RELOCATE_ANON'))!;
    if (!f.header.probe.relocateAnon.relocate) expect(reloc.status).toBe('unsupported');
  });

  it('compare of a file with itself: ratio 1, never improved or regressed', () => {
    const r = run(['compare', out, out, '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as {
      rows: { verdict: string; ratio: number; lo: number; hi: number }[];
      geomean: number;
    };
    expect(c.rows.length).toBeGreaterThan(0);
    for (const x of c.rows) {
      expect(x.ratio).toBe(1);
      // Five samples may not be enough to tell ±5% from nothing: "uncertain" is honest then.
      expect(x.verdict).toBe(x.lo >= 0.95 && x.hi <= 1.05 ? 'no change' : 'uncertain');
    }
    expect(c.geomean).toBe(1);
    const b = run(['compare', out, out, '--format', 'benchstat']);
    expect(b.stdout).toMatch(
      /^BenchmarkMremap\/move_4K_pte->pte_private-anon_pop=1\t1\t\d+ ns\/op$/m,
    );
  });

  it('the report is one offline HTML file with the SVG charts the data allow', () => {
    const html = path.join(tmp, 'report.html');
    const svg = path.join(tmp, 'svg');
    const r = run(['report', out, out, '-o', html, '--svg', svg]);
    expect(r.status, r.stderr).toBe(0);
    const text = fs.readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    // What this run's data allow (a cost-model chart needs two finished moves; the
    // chart itself is tested on data made for it in report.test.ts), never timing luck.
    const f = readResults(out);
    const moves = f.cases.filter((c) => c.status === 'ok' && c.plan.kind === 'move').length;
    const expected = [
      'ab-ratio.svg',
      'ab.svg',
      ...(moves >= 2 ? ['measured-vs-model.svg'] : []),
      'time-vs-size.svg',
    ];
    expect(fs.readdirSync(svg).sort()).toEqual(expected);
    expect((text.match(/<svg/g) ?? []).length).toBe(expected.length);
    expect(r.stderr).toContain(`(${expected.length} charts)`);
  });

  it('a malformed results file is refused with file, line and field (exit 2)', () => {
    const bad = path.join(tmp, 'bad.jsonl');
    const lines = fs.readFileSync(out, 'utf8').split('\n');
    const rec = JSON.parse(lines[2]!) as Record<string, unknown>;
    rec.samples = ['x'];
    lines[2] = JSON.stringify(rec);
    fs.writeFileSync(bad, lines.join('\n'));
    const r = run(['compare', out, bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}:3: samples:`);
    const other = path.join(tmp, 'other.jsonl');
    const good = fs.readFileSync(out, 'utf8').split('\n');
    const hdr = JSON.parse(good[0]!) as Record<string, unknown>;
    fs.writeFileSync(
      other,
      [JSON.stringify({ ...hdr, toolVersion: '0.0.1' }), ...good.slice(1)].join('\n'),
    );
    const v = run(['compare', out, other]);
    expect(v.status).toBe(2);
    expect(v.stderr).toMatch(/different tool versions/);
  });

  it('results measured under TCG are compared with host ones only when told (--mixed-accel)', () => {
    const good = fs.readFileSync(out, 'utf8').split('\n');
    const hdr = JSON.parse(good[0]!) as { probe: Record<string, unknown> };
    const tcg = path.join(tmp, 'tcg.jsonl');
    fs.writeFileSync(
      tcg,
      [JSON.stringify({ ...hdr, probe: { ...hdr.probe, accel: 'tcg' } }), ...good.slice(1)].join(
        '\n',
      ),
    );
    const refused = run(['compare', out, tcg]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      'measured under different CPUs (host vs tcg; tcg is emulated), so the timings are not comparable; pass --mixed-accel to compare anyway',
    );
    const told = run(['compare', out, tcg, '--mixed-accel', '--format', 'json']);
    expect(told.status).toBe(0);
    const ok = good
      .slice(1)
      .filter((l) => l && (JSON.parse(l) as { status: string }).status === 'ok');
    expect((JSON.parse(told.stdout) as { rows: unknown[] }).rows.length).toBe(ok.length);
  });
});

describe('interrupt and resume', () => {
  it('SIGINT keeps finished cases and --resume completes the rest', async () => {
    const slow = path.join(tmp, 'slow.json');
    fs.writeFileSync(
      slow,
      JSON.stringify({
        samples: 40,
        warmup: 0,
        cases: [{ size: '16M', src: ['pte', 'pmd', '1m', '64k'], dst: 'same' }],
      }),
    );
    const out = path.join(tmp, 'int.jsonl');
    const child = spawn(process.execPath, [cli, 'bench', '--matrix', slow, '--out', out]);
    let err = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('case 1/4')) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    const partial = readResults(out);
    if (code === 130) {
      expect(err).toContain('resume with:');
      expect(partial.cases.length).toBeLessThan(4);
    }
    expect(partial.cases.length).toBeGreaterThanOrEqual(1);
    const r = run(['bench', '--matrix', slow, '--out', out, '--resume']);
    expect(r.status, r.stderr).toBe(0);
    const full = readResults(out);
    expect(full.cases.map((c) => c.index).sort()).toEqual([0, 1, 2, 3]);
    // A different matrix cannot resume this file.
    const refused = run(['bench', '--matrix', matrix, '--out', out, '--resume']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/cannot resume/);
  });
});
