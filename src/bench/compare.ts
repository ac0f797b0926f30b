/**
 * A/B comparison of two results files, case by case (matched by case id = all parameters).
 * One estimator gives the ratio, its CI and the verdict: the Hodges–Lehmann shift of
 * log-times and its 95% CI, exponentiated. The verdict reads the CI against the threshold:
 * wholly above 1+t regressed, wholly below 1−t improved, wholly within [1−t, 1+t] no change,
 * and otherwise uncertain (the data cannot tell a change of t from none). The Mann–Whitney
 * p-value (the test this CI inverts) is shown alongside.
 */
import { cleanSamples, stallWarning } from './stalls.js';
import { environmentWarnings } from './environment.js';
import { incompatibility, type CaseRecord, type ResultsFile } from './results.js';
import { geometricMean, mannWhitneyU, median, ratioWithCI, relativeSpread } from './stats.js';

export type Verdict = 'improved' | 'regressed' | 'no change' | 'uncertain';

/** The verdict of a ratio CI [lo, hi] against a threshold t (a fraction, 0.05 for 5%). */
export function verdictOf(lo: number, hi: number, t: number): Verdict {
  if (lo > 1 + t) return 'regressed';
  if (hi < 1 - t) return 'improved';
  if (lo >= 1 - t && hi <= 1 + t) return 'no change';
  return 'uncertain';
}

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
  /** Why the threshold may be meaningless for these files (noise), for the user. */
  warnings: string[];
}

export class CompareError extends Error {}

export function compareCases(base: CaseRecord, next: CaseRecord, threshold: number): CompareRow {
  const a = cleanSamples(base);
  const b = cleanSamples(next);
  const r = ratioWithCI(a, b);
  const mw = mannWhitneyU(a, b);
  const verdict = verdictOf(r.lo, r.hi, threshold);
  return {
    id: base.id,
    base: { n: a.length, median: median(a) },
    next: { n: b.length, median: median(b) },
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
  const counts: Record<Verdict, number> = {
    improved: 0,
    regressed: 0,
    'no change': 0,
    uncertain: 0,
  };
  for (const r of rows) counts[r.verdict]++;
  const compared = new Set(rows.map((r) => r.id));
  const warnings = [a, b].flatMap((f) => {
    const w = noiseWarning(f, compared, threshold);
    const stalled = f.cases
      .filter((c) => compared.has(c.id))
      .flatMap((c) => stallWarning(c) ?? [])
      .map((s) => `${f.file}: ${s}`);
    return [...(w ? [w] : []), ...stalled];
  });
  const side = (f: ResultsFile) => ({
    file: f.file,
    env: f.header.environment,
    conditions: f.cases.flatMap((c) => c.conditions ?? []),
    durationMs: f.cases.reduce((s, c) => s + c.durationMs, 0),
  });
  warnings.push(...environmentWarnings(side(a), side(b)));
  return {
    base: a.file,
    next: b.file,
    threshold,
    rows,
    unmatched,
    geomean: geometricMean(rows.map((r) => r.ratio)),
    counts,
    warnings,
  };
}

/**
 * When the samples of one case typically spread wider than the threshold, a change of the
 * threshold's size is within this machine's run-to-run noise (back-to-back runs of one
 * build were seen ±18% apart): say so rather than let verdicts look precise.
 */
export function noiseWarning(
  f: ResultsFile,
  ids: ReadonlySet<string>,
  threshold: number,
): string | null {
  const spreads = f.cases.filter((c) => ids.has(c.id)).map((c) => relativeSpread(cleanSamples(c)));
  if (spreads.length === 0) return null;
  const typical = median(spreads);
  if (!(typical > threshold)) return null;
  const p = (x: number): string => `${(x * 100).toFixed(1)}%`;
  return (
    `${f.file}: the samples of a case typically spread ±${p(typical)} (median of 1.4826·MAD/median ` +
    `over ${spreads.length} cases), more than the ${p(threshold)} threshold: changes of that size ` +
    `are within this machine's noise. Quiet the machine, pin the sampler (--pin), take more ` +
    `samples, or compare with --threshold ${Math.ceil(typical * 100)}%.`
  );
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
    `${c.counts.improved} improved, ${c.counts.regressed} regressed, ${c.counts['no change']} no change, ` +
    `${c.counts.uncertain} uncertain (95% CI vs threshold ±${(c.threshold * 100).toFixed(1)}%)` +
    (c.unmatched.length ? `; ${c.unmatched.length} unmatched` : '') +
    c.warnings.map((w) => `\nwarning: ${w}`).join('')
  );
}

/** A row's cells as every format prints them: case, base, new, ratio, CI, p, verdict. */
export function rowCells(r: CompareRow): string[] {
  return [
    r.id,
    formatNs(r.base.median),
    formatNs(r.next.median),
    r.ratio.toFixed(3),
    `${r.lo.toFixed(3)}–${r.hi.toFixed(3)}`,
    r.p.toPrecision(2),
    r.verdict,
  ];
}

export function toMarkdown(c: Comparison): string {
  const lines = [
    `| case | base | new | ratio | 95% CI | p | verdict |`,
    `| --- | ---: | ---: | ---: | --- | ---: | --- |`,
    ...c.rows.map((r) => `| ${rowCells(r).join(' | ')} |`),
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
      for (const s of cleanSamples(c)) out.push(`${name(c.id)}\t1\t${s.toFixed(0)} ns/op`);
    }
  }
  return out.join('\n');
}
