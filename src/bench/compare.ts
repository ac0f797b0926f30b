/**
 * A/B comparison of two results files, case by case (matched by case id = all parameters):
 * ratio of medians with a Hodges–Lehmann 95% CI (on log-times), Mann–Whitney U p-value, and
 * a verdict that needs all three: the CI excludes 1, p < 0.05, and the change exceeds the
 * threshold.
 */
import { incompatibility, type CaseRecord, type ResultsFile } from './results.js';
import { geometricMean, mannWhitneyU, median, ratioWithCI } from './stats.js';

export type Verdict = 'improved' | 'regressed' | 'no change';

export interface CompareRow {
  id: string;
  base: { n: number; median: number };
  next: { n: number; median: number };
  ratio: number;
  lo: number;
  hi: number;
  p: number;
  verdict: Verdict;
}

export interface Comparison {
  base: string;
  next: string;
  threshold: number;
  rows: CompareRow[];
  /** Cases in only one file, or not ok in one of them. */
  unmatched: { id: string; why: string }[];
  geomean: number;
  counts: Record<Verdict, number>;
}

export class CompareError extends Error {}

export function compareCases(base: CaseRecord, next: CaseRecord, threshold: number): CompareRow {
  const r = ratioWithCI(base.samples, next.samples);
  const mw = mannWhitneyU(base.samples, next.samples);
  let verdict: Verdict = 'no change';
  if (mw.p < 0.05 && r.lo > 1 && r.ratio > 1 + threshold) verdict = 'regressed';
  else if (mw.p < 0.05 && r.hi < 1 && r.ratio < 1 - threshold) verdict = 'improved';
  return {
    id: base.id,
    base: { n: base.samples.length, median: median(base.samples) },
    next: { n: next.samples.length, median: median(next.samples) },
    ratio: r.ratio,
    lo: r.lo,
    hi: r.hi,
    p: mw.p,
    verdict,
  };
}

export function compareResults(
  a: ResultsFile,
  b: ResultsFile,
  threshold = 0.05,
  mixedAccel = false,
): Comparison {
  const why = incompatibility(a.header, b.header, mixedAccel);
  if (why) throw new CompareError(`cannot compare ${a.file} and ${b.file}: ${why}`);
  const byId = new Map(b.cases.map((c) => [c.id, c]));
  const rows: CompareRow[] = [];
  const unmatched: Comparison['unmatched'] = [];
  for (const c of a.cases) {
    const d = byId.get(c.id);
    byId.delete(c.id);
    if (!d) unmatched.push({ id: c.id, why: `only in ${a.file}` });
    else if (c.status !== 'ok' || d.status !== 'ok')
      unmatched.push({ id: c.id, why: `status ${c.status} / ${d.status}` });
    else rows.push(compareCases(c, d, threshold));
  }
  for (const id of byId.keys()) unmatched.push({ id, why: `only in ${b.file}` });
  if (rows.length === 0)
    throw new CompareError(
      `cannot compare ${a.file} and ${b.file}: no case with the same parameters finished in both`,
    );
  const counts: Record<Verdict, number> = { improved: 0, regressed: 0, 'no change': 0 };
  for (const r of rows) counts[r.verdict]++;
  return {
    base: a.file,
    next: b.file,
    threshold,
    rows,
    unmatched,
    geomean: geometricMean(rows.map((r) => r.ratio)),
    counts,
  };
}

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

const pct = (r: number): string => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;

export function footer(c: Comparison): string {
  return (
    `geometric mean of ratios ${c.geomean.toFixed(4)} (${pct(c.geomean)}) over ${c.rows.length} cases: ` +
    `${c.counts.improved} improved, ${c.counts.regressed} regressed, ${c.counts['no change']} no change` +
    (c.unmatched.length ? `; ${c.unmatched.length} unmatched` : '')
  );
}

export function toMarkdown(c: Comparison): string {
  const lines = [
    `| case | base | new | ratio | 95% CI | p | verdict |`,
    `| --- | ---: | ---: | ---: | --- | ---: | --- |`,
    ...c.rows.map(
      (r) =>
        `| ${r.id} | ${formatNs(r.base.median)} | ${formatNs(r.next.median)} | ${r.ratio.toFixed(3)} | ` +
        `${r.lo.toFixed(3)}–${r.hi.toFixed(3)} | ${r.p.toPrecision(2)} | ${r.verdict} |`,
    ),
    '',
    footer(c),
  ];
  return lines.join('\n');
}

/**
 * Go benchmark format (one line per sample), both runs in one stream separated by a
 * `run:` configuration line: `benchstat -col run FILE` compares them.
 */
export function toBenchstat(a: ResultsFile, b: ResultsFile): string {
  const name = (id: string): string =>
    `BenchmarkMremap/${id.replace(/\s+/g, '_').replace(/[|]/g, '+')}`;
  const out: string[] = [
    'goos: linux',
    `goarch: ${process.arch === 'x64' ? 'amd64' : process.arch}`,
  ];
  out.push(`pkg: mremap-lab`, `cpu: ${a.header.cpu.model}`);
  for (const [label, f] of [
    ['base', a],
    ['new', b],
  ] as const) {
    out.push(`run: ${label}`);
    for (const c of f.cases) {
      if (c.status !== 'ok') continue;
      for (const s of c.samples) out.push(`${name(c.id)}\t1\t${s.toFixed(0)} ns/op`);
    }
  }
  return out.join('\n');
}
