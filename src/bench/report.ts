/**
 * `mremap-lab report`: one self-contained HTML file (inline SVG, no scripts, no network).
 * Charts are vega-lite specs compiled to vega and rendered server-side (`renderer: 'none'`,
 * `toSVG()`), so the report opens offline and diffs as text.
 */
import type * as vl from 'vega-lite';
import { compareResults, footer, formatNs, rowCells, type Comparison } from './compare.js';
import { describeFit, fitCostModel, type CostFit } from './costmodel.js';
import { planLabel } from './plan.js';
import { traceCell, type CaseTrace } from './trace.js';

/** The traced-plan cell: the kernel's walk, and the divergence when it is one. */
const traceText = (t: CaseTrace | undefined): string =>
  t?.divergence ? `${traceCell(t)}: ${t.divergence}` : traceCell(t);
import type { ResultsFile } from './results.js';
import { formatAlign, type BenchCase } from './types.js';

export interface Chart {
  name: string;
  title: string;
  svg: string;
}

/**
 * vega and vega-lite are loaded on first use: importing them costs ~0.7 s, which every CLI
 * start paid although only the report needs them (and under TCG it is many seconds).
 */
export async function renderSpec(spec: vl.TopLevelSpec): Promise<string> {
  const [vega, vlc] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vlc.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const alignLabel = (c: BenchCase): string => `${formatAlign(c.src)}→${formatAlign(c.dst)}`;
const fileLabel = (f: ResultsFile, i: number): string =>
  `${i + 1}: ${f.file.split('/').pop() ?? f.file}`;

function timeVsSize(files: ResultsFile[]): vl.TopLevelSpec | null {
  const values = files.flatMap((f, i) =>
    f.cases
      .filter((c) => c.status === 'ok' && c.params.op === 'move' && c.stats)
      .filter((c) => c.params.populate === 1 && !c.params.thp && c.params.flags.length === 0)
      .filter((c) => c.params.neighbour === 'none' && !c.params.forkChild)
      .map((c) => ({
        size: c.params.size,
        median: c.stats!.median,
        lo: c.stats!.ci95[0],
        hi: c.stats!.ci95[1],
        alignment: alignLabel(c.params),
        kind: c.params.kind,
        file: fileLabel(f, i),
      })),
  );
  if (values.length === 0) return null;
  const log = { type: 'log' as const };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 340,
    data: { values },
    encoding: {
      x: { field: 'size', type: 'quantitative', scale: log, title: 'size (bytes)' },
      color: { field: 'alignment', type: 'nominal', title: 'src→dst alignment' },
      strokeDash: { field: 'kind', type: 'nominal', title: 'memory' },
    },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          y: { field: 'median', type: 'quantitative', scale: log, title: 'median time (ns)' },
          detail: { field: 'file' },
        },
      },
      {
        mark: 'rule',
        encoding: { y: { field: 'lo', type: 'quantitative', scale: log }, y2: { field: 'hi' } },
      },
    ],
  } as vl.TopLevelSpec;
}

function measuredVsModel(fits: { file: string; fit: CostFit }[]): vl.TopLevelSpec | null {
  const values = fits.flatMap(({ file, fit }) =>
    fit.residuals.map((r) => ({
      id: r.id,
      measured: r.measured,
      predicted: Math.max(r.predicted, 1),
      flagged: r.flagged ? 'does not fit its plan' : 'fits',
      file,
    })),
  );
  if (values.length === 0) return null;
  const all = values.flatMap((v) => [v.measured, v.predicted]);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const log = { type: 'log' as const };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 420,
    height: 420,
    layer: [
      {
        data: {
          values: [
            { a: lo, b: lo },
            { a: hi, b: hi },
          ],
        },
        mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
        encoding: {
          x: { field: 'a', type: 'quantitative', scale: log },
          y: { field: 'b', type: 'quantitative', scale: log },
        },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 50 },
        encoding: {
          x: {
            field: 'predicted',
            type: 'quantitative',
            scale: log,
            title: 'cost model from the predicted plan (ns)',
          },
          y: { field: 'measured', type: 'quantitative', scale: log, title: 'measured median (ns)' },
          color: { field: 'flagged', type: 'nominal', title: null },
          shape: { field: 'file', type: 'nominal' },
          tooltip: [{ field: 'id' }],
        },
      },
    ],
  } as vl.TopLevelSpec;
}

/**
 * Medians with their CIs per file, as points: a bar on a log scale starts at 0, which a log
 * scale cannot place, so every bar had zero width.
 */
function abMedians(files: ResultsFile[]): vl.TopLevelSpec | null {
  if (files.length < 2) return null;
  const common = files
    .map((f) => new Set(f.cases.filter((c) => c.status === 'ok').map((c) => c.id)))
    .reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
  const ids = [...common].slice(0, 40);
  if (ids.length === 0) return null;
  const values = files.flatMap((f, i) =>
    f.cases
      .filter((c) => ids.includes(c.id) && c.stats)
      .map((c) => ({
        id: c.id,
        file: fileLabel(f, i),
        median: c.stats!.median,
        lo: c.stats!.ci95[0],
        hi: c.stats!.ci95[1],
      })),
  );
  const log = { type: 'log' as const };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 520,
    data: { values },
    encoding: {
      y: { field: 'id', type: 'nominal', title: null, sort: ids },
      yOffset: { field: 'file', type: 'nominal' },
      color: { field: 'file', type: 'nominal', title: 'results' },
    },
    layer: [
      {
        mark: { type: 'rule' },
        encoding: {
          x: { field: 'lo', type: 'quantitative', scale: log, title: 'median (ns), 95% CI' },
          x2: { field: 'hi' },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 40 },
        encoding: { x: { field: 'median', type: 'quantitative', scale: log } },
      },
    ],
  } as vl.TopLevelSpec;
}

/** new/base per case from compare (the same ratio, CI and verdict as its table). */
function abRatios(cmp: Comparison | null): vl.TopLevelSpec | null {
  if (!cmp || cmp.rows.length === 0) return null;
  const values = cmp.rows.map((r) => ({ ...r, verdict: r.verdict }));
  const log = { type: 'log' as const };
  const t = cmp.threshold;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 520,
    layer: [
      {
        data: { values: [{ lo: 1 - t, hi: 1 + t }] },
        mark: { type: 'rect', color: '#eee' },
        encoding: {
          x: { field: 'lo', type: 'quantitative', scale: log },
          x2: { field: 'hi' },
        },
      },
      {
        data: { values },
        mark: { type: 'rule', color: '#666' },
        encoding: {
          y: { field: 'id', type: 'nominal', title: null },
          x: { field: 'lo', type: 'quantitative', scale: log, title: 'new / base, 95% CI' },
          x2: { field: 'hi' },
        },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 50 },
        encoding: {
          y: { field: 'id', type: 'nominal' },
          x: { field: 'ratio', type: 'quantitative', scale: log },
          color: { field: 'verdict', type: 'nominal', title: null },
        },
      },
    ],
  } as vl.TopLevelSpec;
}

export async function buildCharts(
  files: ResultsFile[],
  cmp: Comparison | null = null,
): Promise<Chart[]> {
  const fits = files
    .map((f, i) => ({ file: fileLabel(f, i), fit: fitCostModel(f.cases) }))
    .filter((x): x is { file: string; fit: CostFit } => x.fit !== null);
  const specs: [string, string, vl.TopLevelSpec | null][] = [
    [
      'time-vs-size',
      'Time vs size per alignment (fully populated moves; log scales; bars = 95% CI)',
      timeVsSize(files),
    ],
    [
      'measured-vs-model',
      'Measured vs the cost model of the predicted plan',
      measuredVsModel(fits),
    ],
    ['ab', 'A/B: medians with 95% CIs (log scale)', abMedians(files)],
    [
      'ab-ratio',
      `A/B: new / base per case with 95% CI; shaded: within ±${((cmp?.threshold ?? 0) * 100).toFixed(0)}%`,
      abRatios(cmp),
    ],
  ];
  const out: Chart[] = [];
  for (const [name, title, spec] of specs) {
    if (spec) out.push({ name, title, svg: await renderSpec(spec) });
  }
  return out;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function comparisonSection(c: Comparison): string {
  const rows = c.rows.map(rowCells);
  const unmatched = c.unmatched.length
    ? `<p>Not compared: ${c.unmatched.map((u) => esc(`${u.id} (${u.why})`)).join('; ')}</p>`
    : '';
  return `<h2>Comparison</h2>${table(['case', 'base median', 'new median', 'ratio', '95% CI', 'p (MWU)', 'verdict'], rows)}<p>${esc(footer({ ...c, warnings: [] }))}</p>${c.warnings.map((w) => `<p><strong>warning:</strong> ${esc(w)}</p>`).join('')}${unmatched}`;
}

function fileSection(f: ResultsFile, i: number): string {
  const h = f.header;
  const fit = fitCostModel(f.cases);
  const resid = new Map(fit?.residuals.map((r) => [r.id, r]) ?? []);
  const env = table(
    ['field', 'value'],
    [
      ['kernel', h.kernel],
      ['CPU', `${h.cpu.model} × ${h.cpu.count}`],
      ['THP enabled / defrag', `${h.thp.enabled ?? '-'} / ${h.thp.defrag ?? '-'}`],
      ['tool version', h.toolVersion],
      [
        'matrix',
        `${h.matrix.source}: ${h.matrix.caseIds.length} cases, ${h.matrix.samples} samples, ${h.matrix.warmup} warm-up`,
      ],
      [
        'options',
        `pin ${h.options.pin ?? 'none'}, ${h.options.isolated ? 'forked single-threaded sampler' : 'in-process'}`,
      ],
      ['command', h.command.join(' ')],
      ['created', h.createdAt],
    ],
  );
  const rows = f.cases.map((c) => {
    const s = c.stats;
    const r = resid.get(c.id);
    return [
      c.id,
      c.status + (c.reason ? ` (${c.reason})` : ''),
      s ? formatNs(s.median) : '-',
      s ? `${formatNs(s.ci95[0])} – ${formatNs(s.ci95[1])}` : '-',
      s ? formatNs(s.mad) : '-',
      s ? `${formatNs(s.min)} / ${formatNs(s.p90)} / ${formatNs(s.p99)} / ${formatNs(s.max)}` : '-',
      s ? `${s.outliers.low} low, ${s.outliers.high} high` : '-',
      planLabel(c.plan),
      traceText(c.trace),
      c.observed ? c.observed.mismatches.join('; ') || 'as predicted' : '-',
      r ? `${(r.rel * 100).toFixed(0)}%${r.flagged ? ` ⚑ ${r.note}` : ''}` : '-',
    ];
  });
  const tr = h.trace
    ? `<p>${esc(h.trace.problem === null ? `plans traced: ${h.trace.method}` : `plans not traced: ${h.trace.problem}`)}</p>`
    : '';
  const coef = `${tr}<p>${esc(describeFit(fit))}</p>`;
  return `<h2>${esc(fileLabel(f, i))}</h2>${env}${coef}${table(
    [
      'case',
      'status',
      'median',
      'median 95% CI',
      'MAD',
      'min / p90 / p99 / max',
      'outliers (kept)',
      'predicted plan',
      'traced plan (kernel)',
      'observed layout',
      'fit residual',
    ],
    rows,
  )}`;
}

export async function buildReport(
  files: ResultsFile[],
): Promise<{ html: string; charts: Chart[] }> {
  let cmp: Comparison | null = null;
  let cmpNote = '';
  if (files.length === 2) {
    try {
      cmp = compareResults(files[0]!, files[1]!);
    } catch (e) {
      cmpNote = (e as Error).message;
    }
  }
  const charts = await buildCharts(files, cmp);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mremap-lab benchmark report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;margin:1em 0;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
figure{margin:1em 0}
</style></head><body>
<h1>mremap-lab benchmark report</h1>
<p>${files.map((f, i) => esc(`${fileLabel(f, i)} — ${f.header.kernel}, ${f.cases.length} cases`)).join('<br>')}</p>
${charts.map((c) => `<figure id="${c.name}"><figcaption>${esc(c.title)}</figcaption>${c.svg}</figure>`).join('\n')}
${cmp ? comparisonSection(cmp) : cmpNote ? `<p>${esc(cmpNote)}</p>` : ''}
${files.map(fileSection).join('\n')}
</body></html>
`;
  return { html, charts };
}
