/**
 * A linear cost model of measured time against the model's predicted plan:
 *   t ≈ fixed + a·PTEs moved + b·PMD entries + c·PUD entries + d·folios relocated
 *       + e·PTE runs (each move_ptes extent also pays pte_alloc of its destination table)
 * fitted by least squares on relative error (weights 1/t, so a 4 KiB and a 1 GiB move count
 * alike). A case whose median is far from its fitted value did not cost what its predicted
 * plan costs elsewhere: a hint that the kernel took another path than the model expects.
 */
import { planLabel, type PlanFeatures } from './plan.js';
import type { CaseRecord } from './results.js';

export const TERMS = ['fixed', 'ptes', 'pmds', 'puds', 'folios', 'pteRuns'] as const;
export type Term = (typeof TERMS)[number];

export interface CostFit {
  /** ns per unit of each term (0 for terms no case exercised). */
  coef: Record<Term, number>;
  /** Cases used in the fit. */
  n: number;
  /** Relative RMS error of the fit. */
  rmsRel: number;
  residuals: CaseResidual[];
}

export interface CaseResidual {
  id: string;
  measured: number;
  predicted: number;
  /** (measured − predicted) / predicted. */
  rel: number;
  flagged: boolean;
  /** "predicted 2 PMD; measured like 513 PTE moves" when flagged. */
  note: string;
}

function row(f: PlanFeatures): number[] {
  return [1, f.ptes, f.pmds, f.puds, f.folios, f.pteRuns ?? 0];
}

/** Solves A x = b (Gaussian elimination with partial pivoting); null when singular. */
export function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((r, i) => [...r, b[i]!]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[piv]![col]!)) piv = r;
    if (Math.abs(m[piv]![col]!) < 1e-12) return null;
    [m[col], m[piv]] = [m[piv]!, m[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      for (let k = col; k <= n; k++) m[r]![k]! -= f * m[col]![k]!;
    }
  }
  return m.map((r, i) => r[n]! / r[i]!);
}

/** Weighted least squares; columns that are zero in every row are left out (coefficient 0). */
export function leastSquares(x: number[][], y: number[], w: number[]): number[] | null {
  const p = x[0]?.length ?? 0;
  const used = [...Array(p).keys()].filter((j) => x.some((r) => r[j] !== 0));
  if (used.length === 0 || y.length < used.length) return null;
  // Scale columns so the normal equations stay well conditioned (PTE counts reach 2^19).
  const scale = used.map((j) => Math.max(...x.map((r) => Math.abs(r[j]!))) || 1);
  const ata = used.map(() => used.map(() => 0));
  const atb = used.map(() => 0);
  for (let i = 0; i < y.length; i++) {
    const xi = used.map((j, k) => x[i]![j]! / scale[k]!);
    const wi = w[i]! * w[i]!;
    for (let a = 0; a < used.length; a++) {
      atb[a]! += wi * xi[a]! * y[i]!;
      for (let b = 0; b < used.length; b++) ata[a]![b]! += wi * xi[a]! * xi[b]!;
    }
  }
  const sol = solve(ata, atb);
  if (!sol) return null;
  const out = new Array<number>(p).fill(0);
  used.forEach((j, k) => (out[j] = sol[k]! / scale[k]!));
  return out;
}

export function fitCostModel(records: readonly CaseRecord[], flagAt = 0.3): CostFit | null {
  const cases = records.filter(
    (r) => r.status === 'ok' && r.plan.kind === 'move' && r.stats !== null && r.stats.median > 0,
  );
  if (cases.length < 2) return null;
  const x = cases.map((r) => row(r.plan));
  const y = cases.map((r) => r.stats!.median);
  const beta = leastSquares(
    x,
    y,
    y.map((v) => 1 / v),
  );
  if (!beta) return null;
  const coef = Object.fromEntries(TERMS.map((t, i) => [t, beta[i]!])) as Record<Term, number>;
  let ss = 0;
  const residuals = cases.map((r, i) => {
    const predicted = x[i]!.reduce((s, v, j) => s + v * beta[j]!, 0);
    const measured = y[i]!;
    const rel = predicted > 0 ? (measured - predicted) / predicted : Number.POSITIVE_INFINITY;
    ss += Number.isFinite(rel) ? rel * rel : 0;
    // Small absolute differences are noise, whatever their ratio.
    const flagged = Math.abs(rel) > flagAt && Math.abs(measured - predicted) > 1000;
    let note = '';
    if (flagged) {
      const like =
        coef.ptes > 0
          ? `measured like ${Math.max(0, Math.round((measured - coef.fixed) / coef.ptes))} PTE moves`
          : `measured ${measured.toFixed(0)} ns`;
      note = `predicted ${planLabel(r.plan)}; ${like} (fit ${predicted.toFixed(0)} ns)`;
    }
    return { id: r.id, measured, predicted, rel, flagged, note };
  });
  return { coef, n: cases.length, rmsRel: Math.sqrt(ss / cases.length), residuals };
}
