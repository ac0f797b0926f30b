// bench/plan.ts replays each case's setup (timing.cc Sampler::Setup) and call on ModelSpace;
// these are the plans of the selftest preset (mremap_test.c's timed cases) it must predict,
// the same as the hand derivation it replaced gave on a THP=madvise host with MOVE_PMD/PUD.
import { describe, expect, it } from 'vitest';
import { arenaSizeFor, layoutCase } from '../../src/bench/layout.js';
import { expandEntry, presetMatrix } from '../../src/bench/matrix.js';
import { planLabel, predictPlan, type PlanEnv } from '../../src/bench/plan.js';
import { caseId, type BenchCase } from '../../src/bench/types.js';

const env: PlanEnv = {
  thpEnabled: 'madvise',
  haveMovePmd: true,
  haveMovePud: true,
  relocateAnon: false,
};
const start = 16n << 40n;
const plan = (c: BenchCase, e: PlanEnv = env) =>
  predictPlan(c, layoutCase(c, { start, end: start + BigInt(arenaSizeFor(c)) }), e);

// [case id without the common suffix, plan label, non-zero move counts, PTEs moved, present after]
const SELFTEST: [string, string, Record<string, number>, number, number][] = [
  ['move 8K pte->pte', '2 PTEs', { pte: 1 }, 2, 2],
  ['move 2M 1m->pte', '512 PTEs', { pte: 3 }, 512, 512],
  ['move 2M 1m->1m', '1 PMD, 256 PTEs, realigned', { pmd: 1, pte: 1 }, 256, 512],
  ['move 4M pmd->pte', '1024 PTEs', { pte: 4 }, 1024, 1024],
  ['move 4M pmd->1m', '1024 PTEs', { pte: 4 }, 1024, 1024],
  ['move 4M pmd->pmd', '2 PMD', { pmd: 2 }, 0, 1024],
  ['move 2G pud->pte', '524288 PTEs', { pte: 2048 }, 524288, 524288],
  ['move 2G pud->1m', '524288 PTEs', { pte: 2048 }, 524288, 524288],
  ['move 2G pud->pmd', '1024 PMD', { pmd: 1024 }, 0, 524288],
  ['move 2G pud->pud', '2 PUD', { pud: 2 }, 0, 524288],
  ['move 5M 1m->1m', '3 PMD, realigned', { pmd: 3 }, 0, 1280],
  // The 40 MiB preamble below the destination: can_align_down(new) refuses.
  ['move 5M 1m->1m nb=selftest-preamble', '2 PMD, 256 PTEs', { pmd: 2, pte: 1 }, 256, 1280],
  ['move 1G pte->pte', '262144 PTEs', { pte: 1025 }, 262144, 262144],
  ['move 1G pmd->pmd', '512 PMD', { pmd: 512 }, 0, 262144],
  ['move 1G pud->pud', '1 PUD', { pud: 1 }, 0, 262144],
];

describe('predicted plans, replayed on the model', () => {
  it('every case of the selftest preset', () => {
    const got = presetMatrix('selftest').cases.map((c) => {
      const p = plan(c);
      const counts = Object.fromEntries(Object.entries(p.counts).filter(([, n]) => n !== 0));
      const id = caseId(c)
        .replace(' shared-anon pop=1', '')
        .replace(' place=selftest', '')
        .replace(' first-shot', '');
      expect(p.expect.mergedBelow).toBe(false);
      expect(p.warnings).toEqual([]);
      return [id, planLabel(p), counts, p.ptes, p.expect.present];
    });
    expect(got).toEqual(SELFTEST);
  }, 180_000);

  it('a merge partner below the destination merges (copy_vma) and blocks realignment', () => {
    const [c] = expandEntry({ size: '4M', src: 'pmd+4K', dst: 'same', neighbour: 'merge-partner' });
    const p = plan(c!);
    expect(p.expect.mergedBelow).toBe(true);
    expect(p.realigned).toBe(false);
    expect(p.realignReason).toMatch(/^can_align_down\(new\)/);
  });

  it('THP=never: a MADV_HUGEPAGE case has only the pages it wrote', () => {
    const [c] = expandEntry({ size: '8M', src: 'pmd', thp: true, populate: 0.25 });
    // madvise: the first write in each aligned 2 MiB faults a whole huge page.
    expect(plan(c!).expect).toEqual({ present: 2048, thpPages: 2048, mergedBelow: false });
    expect(plan(c!, { ...env, thpEnabled: 'never' }).expect).toEqual({
      present: 512,
      thpPages: 0,
      mergedBelow: false,
    });
  });
});
