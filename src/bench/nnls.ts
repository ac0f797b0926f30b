/**
 * Non-negative least squares: min ‖Ax − b‖₂ subject to x ≥ 0, by the active-set method of
 * Lawson and Hanson ("Solving Least Squares Problems", 1974, ch. 23). Each inner least
 * squares problem is solved by Householder QR on the columns of the passive set, so a
 * rank-deficient A (collinear plan features) gives a solution instead of a singular solve.
 */

/**
 * Least squares on the columns `cols` of A by Householder QR; a column that is (numerically)
 * a combination of the earlier ones gets coefficient 0.
 */
function lsqColumns(a: readonly number[][], b: readonly number[], cols: number[]): number[] {
  const m = a.length;
  const k = cols.length;
  const r = a.map((row) => cols.map((j) => row[j]!));
  const y = [...b];
  const scale = Math.max(1, ...r.flatMap((row) => row.map(Math.abs)));
  const dependent = new Array<boolean>(k).fill(false);
  for (let c = 0; c < Math.min(k, m); c++) {
    let norm = 0;
    for (let i = c; i < m; i++) norm += r[i]![c]! ** 2;
    norm = Math.sqrt(norm);
    if (norm <= 1e-12 * scale) {
      dependent[c] = true;
      continue;
    }
    const alpha = r[c]![c]! > 0 ? -norm : norm;
    const v = new Array<number>(m).fill(0);
    for (let i = c; i < m; i++) v[i] = r[i]![c]!;
    v[c]! -= alpha;
    let vv = 0;
    for (let i = c; i < m; i++) vv += v[i]! ** 2;
    if (vv === 0) continue;
    for (let j = c; j < k; j++) {
      let s = 0;
      for (let i = c; i < m; i++) s += v[i]! * r[i]![j]!;
      const f = (2 * s) / vv;
      for (let i = c; i < m; i++) r[i]![j]! -= f * v[i]!;
    }
    let s = 0;
    for (let i = c; i < m; i++) s += v[i]! * y[i]!;
    const f = (2 * s) / vv;
    for (let i = c; i < m; i++) y[i]! -= f * v[i]!;
  }
  const z = new Array<number>(k).fill(0);
  for (let c = Math.min(k, m) - 1; c >= 0; c--) {
    if (dependent[c]) continue;
    let s = y[c]!;
    for (let j = c + 1; j < k; j++) s -= r[c]![j]! * z[j]!;
    const d = r[c]![c]!;
    z[c] = Math.abs(d) <= 1e-12 * scale ? 0 : s / d;
  }
  return z;
}

export interface NnlsResult {
  x: number[];
  /** ‖Ax − b‖₂ at the solution. */
  residualNorm: number;
}

export function nnls(a: readonly number[][], b: readonly number[], maxIter?: number): NnlsResult {
  const m = a.length;
  const n = a[0]?.length ?? 0;
  const x = new Array<number>(n).fill(0);
  const passive = new Array<boolean>(n).fill(false);
  const residual = (): number[] =>
    b.map((bi, i) => bi - a[i]!.reduce((s, aij, j) => s + aij * x[j]!, 0));
  const gradient = (res: number[]): number[] =>
    Array.from({ length: n }, (_, j) => res.reduce((s, ri, i) => s + a[i]![j]! * ri, 0));
  let norm1 = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += Math.abs(a[i]![j]!);
    norm1 = Math.max(norm1, s);
  }
  const tol = 10 * Number.EPSILON * norm1 * Math.max(m, n);
  const limit = maxIter ?? 3 * n + 10;
  for (let iter = 0; iter < limit; iter++) {
    const w = gradient(residual());
    let t = -1;
    for (let j = 0; j < n; j++) if (!passive[j] && w[j]! > tol && (t < 0 || w[j]! > w[t]!)) t = j;
    if (t < 0) break;
    passive[t] = true;
    for (;;) {
      const cols = [...passive.keys()].filter((j) => passive[j]);
      const zc = lsqColumns(a, b, cols);
      const z = new Array<number>(n).fill(0);
      cols.forEach((j, k) => (z[j] = zc[k]!));
      if (cols.every((j) => z[j]! > tol)) {
        for (const j of cols) x[j] = z[j]!;
        break;
      }
      // Step from x towards z until the first passive coefficient reaches 0; it leaves P.
      let alpha = 1;
      for (const j of cols)
        if (z[j]! <= tol) alpha = Math.min(alpha, x[j]! / (x[j]! - z[j]! || Number.MIN_VALUE));
      for (const j of cols) {
        x[j] = x[j]! + alpha * (z[j]! - x[j]!);
        if (x[j]! <= tol) {
          x[j] = 0;
          passive[j] = false;
        }
      }
      if (!passive.some(Boolean)) break;
    }
  }
  const res = residual();
  return { x, residualNorm: Math.sqrt(res.reduce((s, r) => s + r * r, 0)) };
}
