// Stalled samples are found per sample (wall time beyond the sampler's CPU time), kept in
// the record, left out of the statistics and of compare, and reported when too many.
import { describe, expect, it } from 'vitest';
import { compareCases } from '../../src/bench/compare.js';
import type { CaseRecord } from '../../src/bench/results.js';
import { cleanSamples, stallInfo, stalledIndices, stallWarning } from '../../src/bench/stalls.js';

const rec = (samples: number[], cpu: number[]): CaseRecord =>
  ({ id: 'c', samples, stalls: stallInfo(samples, cpu) }) as unknown as CaseRecord;

describe('stall detection', () => {
  it('flags a sample whose wall time exceeds its CPU time beyond the slack', () => {
    // 10 µs + 2% of wall: 1 ms wall allows 30 µs off CPU.
    expect(stalledIndices([1e6, 1e6, 1e6, 5e3], [1e6 + 500, 971e3, 969e3, 0])).toEqual([2]);
  });

  it('leaves stalled samples out of the statistics and of compare', () => {
    const a = rec([100, 100, 100, 9000], [110, 110, 110, 100]);
    expect(a.stalls!.count).toBe(0);
    const b = rec([100, 200, 200, 90_000], [110, 210, 210, 100]);
    expect(b.stalls!.indices).toEqual([3]);
    expect(cleanSamples(b)).toEqual([100, 200, 200]);
    expect(compareCases(b, b, 0.05).next).toEqual({ n: 3, median: 200 });
  });

  it('warns when more than a fifth of the samples stalled', () => {
    expect(stallWarning(rec([1e6, 1e6, 1e6, 1e6, 1e6], [1e6, 1e6, 1e6, 1e6, 0]))).toBeNull();
    expect(stallWarning(rec([1e6, 1e6, 1e6, 1e6, 1e6], [1e6, 1e6, 1e6, 0, 0]))).toBe(
      'c: 2 of 5 samples stalled (wall - CPU time > 10 us + 2% of wall); its figures describe a busy machine',
    );
  });

  it('uses every sample of a file from before stall detection', () => {
    expect(cleanSamples({ samples: [1, 2, 3] })).toEqual([1, 2, 3]);
  });
});
