// compare's ratio, CI and verdict come from one estimator and cannot contradict each other,
// for any samples (fast-check), and the noise warning fires on data made noisy on purpose.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCases, noiseWarning, verdictOf } from '../../src/bench/compare.js';
import type { CaseRecord, ResultsFile } from '../../src/bench/results.js';
import { ratioWithCI } from '../../src/bench/stats.js';

// Timing-like samples: a level, a few modes (cache, THP, migration effects) picked with
// per-sample weights, whole nanoseconds (ties); or plain doubles over a wide range.
const sample = fc.oneof(
  fc
    .record({
      level: fc.integer({ min: 200, max: 2_000_000 }),
      modes: fc.array(fc.double({ min: 1, max: 2, noNaN: true }), { minLength: 1, maxLength: 3 }),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
    })
    .map(({ level, modes, picks }) =>
      picks.map((k) => Math.round(level * modes[k % modes.length]!)),
    ),
  fc.array(fc.double({ min: 50, max: 5e6, noNaN: true }), { minLength: 1, maxLength: 40 }),
);
const threshold = fc.double({ min: 0, max: 0.5, noNaN: true });

const rec = (id: string, samples: number[]): CaseRecord =>
  ({ type: 'case', id, status: 'ok', samples }) as unknown as CaseRecord;

describe('compare: one estimator for ratio, CI and verdict', () => {
  it('the ratio lies within its CI, also as printed (3 decimals)', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r = ratioWithCI(a, b);
        expect(r.lo).toBeLessThanOrEqual(r.ratio);
        expect(r.ratio).toBeLessThanOrEqual(r.hi);
        const [lo, ratio, hi] = [r.lo, r.ratio, r.hi].map((x) => Number(x.toFixed(3)));
        expect(lo).toBeLessThanOrEqual(ratio!);
        expect(ratio).toBeLessThanOrEqual(hi!);
      }),
      { numRuns: 500 },
    );
  });

  it('the verdict follows from the CI and the threshold', () => {
    fc.assert(
      fc.property(sample, sample, threshold, (a, b, t) => {
        const row = compareCases(rec('x', a), rec('x', b), t);
        const expected =
          row.lo > 1 + t
            ? 'regressed'
            : row.hi < 1 - t
              ? 'improved'
              : row.lo >= 1 - t && row.hi <= 1 + t
                ? 'no change'
                : 'uncertain';
        expect(row.verdict).toBe(expected);
        if (row.verdict === 'no change') expect(Math.abs(row.ratio - 1)).toBeLessThanOrEqual(t);
        if (row.verdict === 'improved') expect(row.ratio).toBeLessThan(1 - t);
        if (row.verdict === 'regressed') expect(row.ratio).toBeGreaterThan(1 + t);
      }),
      { numRuns: 500 },
    );
  });

  it('a CI wholly below 1 − threshold is "improved", never "no change"', () => {
    // Found against the old rule (it needed p < 0.05 as well): "no change" with CI 0.71–0.90.
    const base = [102, 108, 102, 104, 108, 103, 107, 101, 102];
    const next = [81, 66, 67, 84, 77, 83, 110, 91, 109];
    const row = compareCases(rec('x', base), rec('x', next), 0.05);
    expect(row.hi).toBeLessThan(0.95);
    expect(row.lo).toBeLessThanOrEqual(row.ratio);
    expect(row.ratio).toBeLessThanOrEqual(row.hi);
    expect(row.verdict).toBe('improved');
  });

  it('two-mode samples: the ratio is the estimator’s, not the ratio of medians', () => {
    // Medians 125 and 100 (ratio 0.8), but b − a in logs is 0 for half of all pairs and
    // spread symmetrically enough that the CI is [1, 1]: the old ratio lay outside it.
    const a = [...Array<number>(50).fill(100), ...Array<number>(50).fill(150)];
    const b = [...Array<number>(60).fill(100), ...Array<number>(40).fill(150)];
    expect(ratioWithCI(a, b)).toEqual({ ratio: 1, lo: 1, hi: 1 });
  });

  it('verdictOf at the edges of the threshold band', () => {
    expect(verdictOf(0.96, 1.04, 0.05)).toBe('no change');
    expect(verdictOf(0.95, 1.05, 0.05)).toBe('no change');
    expect(verdictOf(1.02, 1.08, 0.05)).toBe('uncertain');
    expect(verdictOf(0.9, 1.1, 0.05)).toBe('uncertain');
    expect(verdictOf(1.051, 1.2, 0.05)).toBe('regressed');
    expect(verdictOf(0.69, 0.88, 0.05)).toBe('improved');
  });
});

describe('compare: noise warning', () => {
  const file = (name: string, spread: number): ResultsFile =>
    ({
      file: name,
      cases: [1000, 2000, 3000].map((m, k) =>
        rec(
          `c${k}`,
          Array.from({ length: 21 }, (_, i) => m * (1 + (spread * ((i % 7) - 3)) / 3)),
        ),
      ),
    }) as unknown as ResultsFile;
  const ids = new Set(['c0', 'c1', 'c2']);

  it('fires when the typical within-case spread exceeds the threshold', () => {
    // Values m·(1 + s·{-1, -2/3, …, 1}): MAD = m·s·2/3, so 1.4826·MAD/median = 0.9884·s.
    expect(noiseWarning(file('a.jsonl', 0.2), ids, 0.05)).toBe(
      'a.jsonl: the samples of a case typically spread ±19.8% (median of 1.4826·MAD/median over 3 cases), ' +
        "more than the 5.0% threshold: changes of that size are within this machine's noise. " +
        'Quiet the machine, pin the sampler (--pin), take more samples, or compare with --threshold 20%.',
    );
  });

  it('stays quiet when the spread is below the threshold', () => {
    expect(noiseWarning(file('a.jsonl', 0.03), ids, 0.05)).toBeNull();
  });
});
