// Statistics against values computed by hand or by an independent implementation
// (@tracerbench/stats), never against timings.
import { describe, expect, it } from 'vitest';
import { confidenceInterval } from '@tracerbench/stats';
import {
  bootstrapMedianCI,
  geometricMean,
  hodgesLehmann,
  mad,
  mannWhitneyU,
  median,
  normalCdf,
  normalQuantile,
  quantileSorted,
  ratioWithCI,
  summarize,
  tukeyOutliers,
} from '../../src/bench/stats.js';

describe('descriptive statistics', () => {
  it('median, MAD and type-7 quantiles match known values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    // |x - 3| = 2,1,0,1,2,3,97 → median 2
    expect(mad([1, 2, 3, 4, 5, 6, 100])).toBe(2);
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantileSorted(s, 0.9)).toBeCloseTo(9.1, 12); // numpy.percentile(s, 90)
    expect(quantileSorted(s, 0.99)).toBeCloseTo(9.91, 12);
  });

  it('outliers are counted with Tukey fences, not dropped', () => {
    const xs = [10, 11, 10, 12, 11, 10, 11, 200];
    const o = tukeyOutliers(xs);
    expect(o.high).toBe(1);
    expect(o.indices).toEqual([7]);
    const s = summarize(xs);
    expect(s.n).toBe(8);
    expect(s.max).toBe(200);
  });

  it('bootstrap CI of the median brackets the median and is deterministic', () => {
    const xs = Array.from({ length: 101 }, (_, i) => 1000 + ((i * 37) % 101));
    const [lo, hi] = bootstrapMedianCI(xs, { seed: 1 });
    expect(lo).toBeLessThanOrEqual(median(xs));
    expect(hi).toBeGreaterThanOrEqual(median(xs));
    expect(bootstrapMedianCI(xs, { seed: 1 })).toEqual([lo, hi]);
    expect(bootstrapMedianCI([5, 5, 5, 5])).toEqual([5, 5]);
  });

  it('normal CDF and quantile agree with tables', () => {
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 6);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.5758293, 5);
    expect(geometricMean([1, 4])).toBeCloseTo(2, 12);
  });
});

describe('A/B tests against @tracerbench/stats', () => {
  const a = [101, 104, 99, 107, 110, 98, 103, 105, 102, 111, 96, 108];
  const b = [112, 118, 109, 121, 115, 117, 113, 119, 114, 120, 116, 122];
  const c = [100.5, 103.5, 99.5, 106.5, 109.5, 97.5, 104.5, 105.5, 101.5, 110.5, 95.5, 108.5];

  for (const [name, x, y] of [
    ['clearly different', a, b],
    ['overlapping', a, c],
  ] as const) {
    it(`Mann–Whitney U and p-value (${name}, no ties)`, () => {
      const ref = confidenceInterval([...x], [...y], 0.95);
      const mw = mannWhitneyU(x, y);
      expect(mw.u).toBe(ref.U);
      expect(mw.p).toBeCloseTo(ref.pValue, 3);
    });

    it(`Hodges–Lehmann shift and CI (${name})`, () => {
      // tracerbench's deltas are control − experiment; ours are b − a.
      const ref = confidenceInterval([...x], [...y], 0.95);
      const hl = hodgesLehmann(x, y);
      expect(hl.shift).toBeCloseTo(-ref.median, 9);
      expect(hl.lo).toBeCloseTo(-ref.max, 9);
      expect(hl.hi).toBeCloseTo(-ref.min, 9);
    });
  }

  it('a sample compared with itself: ratio 1, CI around 1, p = 1', () => {
    const r = ratioWithCI(a, a);
    expect(r.ratio).toBe(1);
    expect(r.lo).toBeLessThanOrEqual(1);
    expect(r.hi).toBeGreaterThanOrEqual(1);
    expect(mannWhitneyU(a, a).p).toBeCloseTo(1, 6);
  });
});
