/**
 * A linear cost model of measured time against the model's predicted plan:
 *   t ≈ fixed + a·PTEs moved + b·PMD entries + c·PUD entries + d·folios relocated
 *       + e·PTE runs (each move_ptes extent also pays pte_alloc of its destination table)
 * fitted by non-negative least squares on relative error (weights 1/t, so a 4 KiB and a
 * 1 GiB move count alike). A case whose median is far from its fitted value did not cost what its predicted
 * plan costs elsewhere: a hint that the kernel took another path than the model expects.
 */
import { planLabel, type PlanFeatures } from './plan.js';
import type { CaseRecord } from './results.js';
import { nnls } from './nnls.js';

/**
 * Above this relative RMS error the coefficients are only the least-bad non-negative
 * combination, not costs: the plans do not explain the measured times.
 */
export const FIT_RMS_MAX = 0.25;

export const TERMS = ['fixed', 'ptes', 'pmds', 'puds', 'folios', 'pteRuns'] as const;
export type Term = (typeof TERMS)[number];

export interface CostFit {
  /** ns per unit of each term (0 for terms no case exercised). */
  coef: Record<Term, number>;
  /** Cases used in the fit. */
  n: number;
  /** Cases left out because their traced plan differs from the predicted one (bench --trace). */
  excluded: string[];
  /** Relative RMS error of the fit: √mean(((measured − fit) / measured)²). */
  rmsRel: number;
  /** rmsRel ≤ FIT_RMS_MAX: the plan explains the times; otherwise the model does not fit. */
  fits: boolean;
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

/**
 * Weighted non-negative least squares (nnls.ts): a per-entry cost cannot be negative, and
 * an unconstrained fit on collinear plan features returned negative ns/PTE or no solution
 * at all. Columns that are zero in every row keep coefficient 0.
 */
export function fitNonNegative(x: number[][], y: number[], w: number[]): number[] | null {
  const p = x[0]?.length ?? 0;
  const used = [...Array(p).keys()].filter((j) => x.some((r) => r[j] !== 0));
  if (used.length === 0 || y.length === 0) return null;
  // Scale columns to unit size (PTE counts reach 2^19, the constant term is 1).
  const scale = used.map((j) => Math.max(...x.map((r) => Math.abs(r[j]!))) || 1);
  const a = x.map((r, i) => used.map((j, k) => (w[i]! * r[j]!) / scale[k]!));
  const b = y.map((v, i) => w[i]! * v);
  const { x: sol } = nnls(a, b);
  const out = new Array<number>(p).fill(0);
  used.forEach((j, k) => (out[j] = sol[k]! / scale[k]!));
  return out;
}

export function fitCostModel(records: readonly CaseRecord[], flagAt = 0.3): CostFit | null {
  const finished = records.filter(
    (r) => r.status === 'ok' && r.plan.kind === 'move' && r.stats !== null && r.stats.median > 0,
  );
  // A case the kernel moved otherwise than predicted has no place in a fit of costs per
  // predicted entry: its time belongs to a plan the fit does not see (bench --trace).
  const cases = finished.filter((r) => r.trace?.verdict !== 'differ');
  const excluded = finished.filter((r) => r.trace?.verdict === 'differ').map((r) => r.id);
  if (cases.length < 2) return null;
  const x = cases.map((r) => row(r.plan));
  const y = cases.map((r) => r.stats!.median);
  const beta = fitNonNegative(
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
    // The fit's own objective (weights 1/t): finite even where the fit predicts 0 ns.
    ss += ((measured - predicted) / measured) ** 2;
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
  const rmsRel = Math.sqrt(ss / cases.length);
  return { coef, n: cases.length, excluded, rmsRel, fits: rmsRel <= FIT_RMS_MAX, residuals };
}

/** The one-line account of a fit for the bench summary and the report. */
export function describeFit(fit: CostFit | null): string {
  if (!fit) return 'cost model: fewer than 2 finished move cases, nothing to fit';
  const c = fit.coef;
  const terms =
    `fixed ${c.fixed.toFixed(0)} ns + ${c.ptes.toFixed(2)} ns/PTE + ${c.pmds.toFixed(0)} ns/PMD entry` +
    ` + ${c.puds.toFixed(0)} ns/PUD entry + ${c.folios.toFixed(1)} ns/folio relocated` +
    ` + ${c.pteRuns.toFixed(0)} ns/PTE run`;
  const left = fit.excluded.length
    ? `; ${fit.excluded.length} case${fit.excluded.length === 1 ? '' : 's'} left out of the fit: the traced plan differs from the predicted one`
    : '';
  const err = `${fit.n} cases, relative RMS error ${(fit.rmsRel * 100).toFixed(1)}%`;
  return fit.fits
    ? `cost model (${err}): ${terms}${left}`
    : `cost model does not fit (${err}, above ${(FIT_RMS_MAX * 100).toFixed(0)}%): the predicted ` +
        `plans do not explain these times; the least-bad non-negative fit is ${terms}${left}`;
}
