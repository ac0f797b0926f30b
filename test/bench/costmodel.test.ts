// The cost model on data made for it (synthetic records whose medians are a known linear
// function of their predicted plans), never on timing noise; NNLS against known solutions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeFit, fitCostModel, fitNonNegative } from '../../src/bench/costmodel.js';
import { nnls } from '../../src/bench/nnls.js';
import { arenaSizeFor, layoutCase } from '../../src/bench/layout.js';
import { presetMatrix } from '../../src/bench/matrix.js';
import { predictPlan } from '../../src/bench/plan.js';
import { caseId } from '../../src/bench/types.js';
import type { CaseRecord } from '../../src/bench/results.js';

describe('nnls (Lawson–Hanson)', () => {
  it('returns the unconstrained solution when it is non-negative', () => {
    const r = nnls(
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      [1, 2, 3],
    );
    expect(r.x[0]).toBeCloseTo(1, 12);
    expect(r.x[1]).toBeCloseTo(2, 12);
    expect(r.residualNorm).toBeCloseTo(0, 12);
  });

  it('MATLAB lsqnonneg documentation example: x = [0, 0.6929]', () => {
    // Unconstrained least squares gives [-2.5627, 3.1108] here.
    const c = [
      [0.0372, 0.2869],
      [0.6861, 0.7071],
      [0.6233, 0.6245],
      [0.6344, 0.617],
    ];
    const d = [0.8587, 0.1781, 0.0747, 0.8405];
    const r = nnls(c, d);
    expect(r.x[0]).toBe(0);
    expect(r.x[1]).toBeCloseTo(0.6929, 4);
    // lsqnonneg's resnorm is the squared 2-norm of the residual.
    expect(r.residualNorm ** 2).toBeCloseTo(0.8315, 4);
  });

  it('clips a coefficient whose unconstrained value is negative', () => {
    const r = nnls(
      [
        [1, 0],
        [0, 1],
      ],
      [-1, 2],
    );
    expect(r.x).toEqual([0, 2]);
  });

  it('a rank-deficient matrix (duplicate columns) still gets a solution', () => {
    const r = nnls(
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      [2, 4, 6],
    );
    expect(r.x[0]! + r.x[1]!).toBeCloseTo(2, 12);
    expect(Math.min(...r.x)).toBeGreaterThanOrEqual(0);
    expect(r.residualNorm).toBeCloseTo(0, 12);
  });

  it('satisfies the KKT conditions on random problems', () => {
    const matrix = fc.integer({ min: 1, max: 5 }).chain((n) =>
      fc.array(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
        {
          minLength: 1,
          maxLength: 8,
        },
      ),
    );
    fc.assert(
      fc.property(
        matrix.chain((a) =>
          fc.tuple(
            fc.constant(a),
            fc.array(fc.double({ min: -10, max: 10, noNaN: true }), {
              minLength: a.length,
              maxLength: a.length,
            }),
          ),
        ),
        ([a, b]) => {
          const { x } = nnls(a, b);
          const res = b.map((bi, i) => bi - a[i]!.reduce((s, v, j) => s + v * x[j]!, 0));
          const w = x.map((_, j) => res.reduce((s, r, i) => s + a[i]![j]! * r, 0));
          const tol = 1e-7 * (1 + Math.max(...b.map(Math.abs))) * 10 * a.length;
          for (let j = 0; j < x.length; j++) {
            expect(x[j]).toBeGreaterThanOrEqual(0);
            // No coefficient could lower the residual by growing (w ≤ 0) …
            expect(w[j]).toBeLessThanOrEqual(tol);
            // … and the positive ones are at the least-squares optimum (w = 0).
            if (x[j]! > 0) expect(Math.abs(w[j]!)).toBeLessThanOrEqual(tol);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** A finished move case whose median is the given time, with the given plan features. */
function record(
  id: string,
  f: { ptes?: number; pmds?: number; puds?: number; folios?: number; pteRuns?: number },
  median: number,
): CaseRecord {
  if ('kind' in f)
    return {
      type: 'case',
      id,
      status: 'ok',
      plan: f,
      samples: [median],
      stats: { median },
    } as unknown as CaseRecord;
  const plan = { ptes: 0, pmds: 0, puds: 0, folios: 0, pteRuns: 0, ...f };
  return {
    type: 'case',
    id,
    status: 'ok',
    plan: {
      kind: 'move',
      counts: { pte: plan.pteRuns },
      realigned: false,
      relocation: false,
      ...plan,
    },
    samples: [median],
    stats: { median },
  } as unknown as CaseRecord;
}

// ns: fixed, per PTE, per PMD entry, per PUD entry, per folio, per PTE run.
const COST = { fixed: 3000, ptes: 20, pmds: 400, puds: 9000, folios: 0, pteRuns: 1500 };
const PLANS = [
  { ptes: 1, pteRuns: 1 },
  { ptes: 16, pteRuns: 1 },
  { ptes: 512, pteRuns: 1 },
  { ptes: 1024, pteRuns: 3 },
  { ptes: 262144, pteRuns: 513 },
  { pmds: 1 },
  { pmds: 512 },
  { puds: 1 },
  { puds: 2, pmds: 1 },
  { ptes: 256, pmds: 1, pteRuns: 1 },
];
const timeOf = (f: { ptes?: number; pmds?: number; puds?: number; pteRuns?: number }): number =>
  COST.fixed +
  COST.ptes * (f.ptes ?? 0) +
  COST.pmds * (f.pmds ?? 0) +
  COST.puds * (f.puds ?? 0) +
  COST.pteRuns * (f.pteRuns ?? 0);

describe('cost model on synthetic records', () => {
  it('leaves out a case whose traced plan differs from the predicted one', () => {
    const recs = PLANS.map((f, i) => record(`c${i}`, f, timeOf(f)));
    // The kernel took the PTE path where 1 PMD was predicted: 512 PTEs' worth of time.
    const pte = record('pte-path', { pmds: 1 }, timeOf({ ptes: 512, pteRuns: 1 }));
    pte.trace = {
      model: '1 PMD',
      kernel: '1 PTE',
      verdict: 'differ',
      divergence: 'plan differs: model 1 PMD, kernel 1 PTE',
      rows: [],
      walks: 1,
    };
    const agreed = record('agreed', { pmds: 1 }, timeOf({ pmds: 1 }));
    agreed.trace = { ...pte.trace, kernel: '1 PMD', verdict: 'agree', divergence: null };
    const fit = fitCostModel([...recs, pte, agreed])!;
    expect(fit.n).toBe(11);
    expect(fit.excluded).toEqual(['pte-path']);
    expect(fit.rmsRel).toBeLessThan(1e-9);
    expect(describeFit(fit)).toMatch(
      /^cost model \(11 cases, relative RMS error 0\.0%\): .*; 1 case left out of the fit: the traced plan differs from the predicted one$/,
    );
  });

  it('recovers known per-entry costs exactly and says it fits', () => {
    const fit = fitCostModel(PLANS.map((f, i) => record(`c${i}`, f, timeOf(f))))!;
    expect(fit.n).toBe(10);
    for (const [k, v] of Object.entries(COST))
      expect(fit.coef[k as keyof typeof COST]).toBeCloseTo(v, 6);
    expect(fit.rmsRel).toBeLessThan(1e-9);
    expect(fit.fits).toBe(true);
    expect(fit.residuals.some((r) => r.flagged)).toBe(false);
    expect(describeFit(fit)).toBe(
      'cost model (10 cases, relative RMS error 0.0%): fixed 3000 ns + 20.00 ns/PTE + 400 ns/PMD entry + 9000 ns/PUD entry + 0.0 ns/folio relocated + 1500 ns/PTE run',
    );
  });

  it('the default preset’s own plans fit (its 128 cases were a singular solve)', () => {
    const env = {
      thpEnabled: 'madvise',
      haveMovePmd: true,
      haveMovePud: true,
      relocateAnon: false,
    };
    const start = 16n << 40n;
    const recs = presetMatrix('default')
      .cases.filter((c) => c.op === 'move')
      .map((c) => {
        const plan = predictPlan(
          c,
          layoutCase(c, { start, end: start + BigInt(arenaSizeFor(c)) }),
          env,
        );
        return record(caseId(c), plan, timeOf(plan));
      });
    expect(recs.length).toBeGreaterThan(100);
    const fit = fitCostModel(recs)!;
    for (const [k, v] of Object.entries(COST))
      expect(fit.coef[k as keyof typeof COST]).toBeCloseTo(v, 4);
    expect(fit.fits).toBe(true);
  });

  it('flags the case that did not cost what its plan costs', () => {
    // "predicted 1 PMD" but it took what 512 PTE moves take: the kernel split the PMD.
    const recs = PLANS.map((f, i) => record(`c${i}`, f, timeOf(f)));
    recs.push(record('split', { pmds: 1 }, timeOf({ ptes: 512, pteRuns: 1 })));
    const fit = fitCostModel(recs)!;
    const flagged = fit.residuals.filter((r) => r.flagged).map((r) => r.id);
    expect(flagged).toEqual(['split']);
  });

  it('collinear features (every move one PTE run) fit instead of a singular solve', () => {
    const recs = [1, 16, 64, 256].map((n) =>
      record(`p${n}`, { ptes: n, pteRuns: 1 }, 4500 + 20 * n),
    );
    const fit = fitCostModel(recs)!;
    expect(fit.coef.fixed + fit.coef.pteRuns).toBeCloseTo(4500, 6);
    expect(fit.coef.ptes).toBeCloseTo(20, 9);
    expect(fit.fits).toBe(true);
  });

  it('never a negative cost: times falling with PTEs give 0 ns/PTE and the weighted mean', () => {
    const ys = [10000, 9000, 8000];
    const recs = [1, 100, 1000].map((n, i) => record(`p${n}`, { ptes: n, pteRuns: 1 }, ys[i]!));
    const fit = fitCostModel(recs)!;
    for (const v of Object.values(fit.coef)) expect(v).toBeGreaterThanOrEqual(0);
    expect(fit.coef.ptes).toBe(0);
    // The best constant c for Σ((y − c)/y)² is Σ(1/y) / Σ(1/y²).
    const c = ys.reduce((s, y) => s + 1 / y, 0) / ys.reduce((s, y) => s + 1 / y ** 2, 0);
    expect(fit.coef.fixed + fit.coef.pteRuns).toBeCloseTo(c, 6);
  });

  it('never a negative cost where unconstrained least squares fits one exactly', () => {
    // Unconstrained: −10.1 ns/PTE with a 0% error (the old fit printed exactly that).
    const recs = [
      record('a', { ptes: 1, pteRuns: 1 }, 10000),
      record('b', { ptes: 100, pteRuns: 1 }, 9000),
      record('c', { ptes: 1000, pteRuns: 2 }, 8000),
      record('d', { pmds: 1 }, 6000),
    ];
    const fit = fitCostModel(recs)!;
    expect(fit.coef.ptes).toBe(0);
    for (const v of Object.values(fit.coef)) expect(v).toBeGreaterThanOrEqual(0);
    expect(fit.rmsRel).toBeCloseTo(0.1512, 4);
  });

  it('says "does not fit" when the plans do not explain the times', () => {
    // Identical plans, times 10× apart: no linear cost of the plan explains both.
    const recs = [
      record('a', { ptes: 16, pteRuns: 1 }, 1000),
      record('b', { ptes: 16, pteRuns: 1 }, 10000),
      record('c', { ptes: 16, pteRuns: 1 }, 1000),
      record('d', { ptes: 16, pteRuns: 1 }, 10000),
    ];
    const fit = fitCostModel(recs)!;
    expect(fit.fits).toBe(false);
    expect(fit.rmsRel).toBeGreaterThan(0.25);
    expect(describeFit(fit)).toMatch(
      /^cost model does not fit \(4 cases, relative RMS error \d+\.\d%, above 25%\): the predicted plans do not explain these times; the least-bad non-negative fit is fixed /,
    );
    expect(describeFit(null)).toBe('cost model: fewer than 2 finished move cases, nothing to fit');
  });

  it('fitNonNegative leaves unused terms at 0', () => {
    const x = [
      [1, 1, 0, 0],
      [1, 16, 0, 0],
      [1, 512, 0, 0],
      [1, 0, 1, 0],
      [1, 0, 512, 0],
    ];
    const y = x.map((r) => 3000 + 20 * r[1]! + 400 * r[2]!);
    const beta = fitNonNegative(
      x,
      y,
      y.map((v) => 1 / v),
    )!;
    expect(beta[0]).toBeCloseTo(3000, 6);
    expect(beta[1]).toBeCloseTo(20, 8);
    expect(beta[2]).toBeCloseTo(400, 8);
    expect(beta[3]).toBe(0);
  });
});
