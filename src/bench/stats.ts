/**
 * Statistics for benchmark samples. Robust by default (median, MAD, percentiles), with a
 * bootstrap CI of the median; outliers are counted and listed, never dropped. A/B: Mann–Whitney
 * U (normal approximation, tie and continuity corrected) and the Hodges–Lehmann estimate on
 * log-times, a distribution-free ratio of the two distributions' locations with its CI.
 */

/** Deterministic PRNG (mulberry32): the same samples give the same bootstrap CI. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sortedCopy(xs: ArrayLike<number>): number[] {
  return Array.from(xs).sort((a, b) => a - b);
}

/** Linear-interpolation quantile (R type 7, numpy's default) of sorted data. */
export function quantileSorted(s: readonly number[], q: number): number {
  if (s.length === 0) return Number.NaN;
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

export function median(xs: ArrayLike<number>): number {
  return quantileSorted(sortedCopy(xs), 0.5);
}

/** Median absolute deviation (unscaled; multiply by 1.4826 for a normal-consistent σ). */
export function mad(xs: ArrayLike<number>): number {
  const m = median(xs);
  return median(Array.from(xs, (x) => Math.abs(x - m)));
}

/** Percentile bootstrap CI of the median. */
export function bootstrapMedianCI(
  xs: ArrayLike<number>,
  opts: { iterations?: number; confidence?: number; seed?: number } = {},
): [number, number] {
  const n = xs.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const iterations = opts.iterations ?? 2000;
  const alpha = 1 - (opts.confidence ?? 0.95);
  const rnd = mulberry32(opts.seed ?? 0x5eed);
  const data = Array.from(xs);
  const meds = new Float64Array(iterations);
  const buf = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) buf[i] = data[Math.floor(rnd() * n)]!;
    buf.sort();
    meds[it] = quantileSorted(buf as unknown as number[], 0.5);
  }
  meds.sort();
  const s = meds as unknown as number[];
  return [quantileSorted(s, alpha / 2), quantileSorted(s, 1 - alpha / 2)];
}

export interface Outliers {
  /** Tukey fences: Q1 − 1.5·IQR and Q3 + 1.5·IQR. */
  lowFence: number;
  highFence: number;
  low: number;
  high: number;
  /** Sample indices (in run order) of the outliers, at most 50. */
  indices: number[];
}

export function tukeyOutliers(xs: ArrayLike<number>): Outliers {
  const s = sortedCopy(xs);
  const q1 = quantileSorted(s, 0.25);
  const q3 = quantileSorted(s, 0.75);
  const iqr = q3 - q1;
  const lowFence = q1 - 1.5 * iqr;
  const highFence = q3 + 1.5 * iqr;
  let low = 0;
  let high = 0;
  const indices: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x < lowFence) low++;
    else if (x > highFence) high++;
    else continue;
    if (indices.length < 50) indices.push(i);
  }
  return { lowFence, highFence, low, high, indices };
}

export interface SampleStats {
  n: number;
  median: number;
  mad: number;
  mean: number;
  min: number;
  max: number;
  p10: number;
  p90: number;
  p99: number;
  /** Bootstrap 95% CI of the median. */
  ci95: [number, number];
  outliers: Outliers;
}

export function summarize(xs: ArrayLike<number>, seed = 0x5eed): SampleStats {
  const s = sortedCopy(xs);
  let sum = 0;
  for (const x of s) sum += x;
  return {
    n: s.length,
    median: quantileSorted(s, 0.5),
    mad: mad(s),
    mean: s.length ? sum / s.length : Number.NaN,
    min: s[0] ?? Number.NaN,
    max: s[s.length - 1] ?? Number.NaN,
    p10: quantileSorted(s, 0.1),
    p90: quantileSorted(s, 0.9),
    p99: quantileSorted(s, 0.99),
    ci95: bootstrapMedianCI(s, { seed }),
    outliers: tukeyOutliers(xs),
  };
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Inverse of normalCdf (Acklam's rational approximation; relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

export interface MannWhitney {
  /** Number of pairs (a, b) with a < b, ties counting one half. */
  u: number;
  z: number;
  /** Two-sided p-value. */
  p: number;
}

/** Mann–Whitney U via ranks (average ranks for ties), normal approximation. */
export function mannWhitneyU(a: ArrayLike<number>, b: ArrayLike<number>): MannWhitney {
  const n1 = a.length;
  const n2 = b.length;
  const all: { v: number; g: 0 | 1 }[] = [];
  for (let i = 0; i < n1; i++) all.push({ v: a[i]!, g: 0 });
  for (let i = 0; i < n2; i++) all.push({ v: b[i]!, g: 1 });
  all.sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.v === all[i]!.v) j++;
    const avg = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]!.g === 0) rankSumA += avg;
    const t = j - i;
    tieTerm += t * t * t - t;
    i = j;
  }
  // U counted as "a < b" wins: n1·n2 − (R_a − n1(n1+1)/2).
  const uA = rankSumA - (n1 * (n1 + 1)) / 2;
  const u = n1 * n2 - uA;
  const mean = (n1 * n2) / 2;
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, z: 0, p: 1 };
  const cc = u < mean ? 0.5 : u > mean ? -0.5 : 0;
  const z = (u - mean + cc) / Math.sqrt(variance);
  return { u, z, p: Math.min(1, 2 * normalCdf(-Math.abs(z))) };
}

/**
 * Hodges–Lehmann shift of b relative to a (median of all b_j − a_i) with its
 * distribution-free CI (order statistics of the pairwise differences, normal approximation
 * for the rank; the interval that inverts the Mann–Whitney test). The shift is taken as the
 * middle order statistic (or the mean of the two middle ones), which lies inside the CI by
 * construction: the CI's ranks are at most the middle ones.
 */
export function hodgesLehmann(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  confidence = 0.95,
): { shift: number; lo: number; hi: number } {
  const n1 = a.length;
  const n2 = b.length;
  const d = new Float64Array(n1 * n2);
  let k = 0;
  for (let i = 0; i < n1; i++) for (let j = 0; j < n2; j++) d[k++] = b[j]! - a[i]!;
  d.sort();
  const m = n1 * n2;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const ka = Math.max(0, Math.floor(m / 2 - z * Math.sqrt((m * (n1 + n2 + 1)) / 12)));
  const lo = d[Math.min(ka, (m - 1) >> 1)]!;
  const hi = d[Math.max(m - 1 - ka, m >> 1)]!;
  // (x + y) / 2 of two sorted values never leaves [x, y] in floating point.
  const shift = m % 2 ? d[(m - 1) / 2]! : (d[m / 2 - 1]! + d[m / 2]!) / 2;
  return { shift, lo, hi };
}

/**
 * new/base as a ratio: the Hodges–Lehmann shift of log-times and its CI, exponentiated, so
 * the ratio and its interval come from one estimator and the ratio always lies inside it.
 */
export function ratioWithCI(
  base: ArrayLike<number>,
  next: ArrayLike<number>,
  confidence = 0.95,
): { ratio: number; lo: number; hi: number } {
  const la = Array.from(base, (x) => Math.log(Math.max(x, 1e-9)));
  const lb = Array.from(next, (x) => Math.log(Math.max(x, 1e-9)));
  const hl = hodgesLehmann(la, lb, confidence);
  return { ratio: Math.exp(hl.shift), lo: Math.exp(hl.lo), hi: Math.exp(hl.hi) };
}

/** Robust relative spread of one sample: 1.4826·MAD / median (a CV for normal data). */
export function relativeSpread(xs: ArrayLike<number>): number {
  const m = median(xs);
  return m > 0 ? (1.4826 * mad(xs)) / m : Number.POSITIVE_INFINITY;
}

export function geometricMean(xs: readonly number[]): number {
  if (!xs.length) return Number.NaN;
  let s = 0;
  for (const x of xs) s += Math.log(x);
  return Math.exp(s / xs.length);
}
