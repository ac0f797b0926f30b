/**
 * Plan comparison: the model's plan for Linus's example 1 beside traced walks. A level
 * whose probe could not be placed is "cannot verify" with the reason, never a match.
 */
import { describe, expect, it } from 'vitest';
import type { TracedWalk } from '../../src/kernel/trace/parse.js';
import {
  comparePlan,
  deriveFromCallees,
  kernelCounts,
  planDivergence,
} from '../../src/scenario/plan-verdict.js';
import { allProbed, inline, plan66, plan67, walk61 } from './trace-fixtures.js';

describe('comparePlan', () => {
  it('agrees level by level when the walk is the 6.6 plan', () => {
    const rows = comparePlan(plan66, walk61, allProbed);
    expect(rows.map((r) => [r.level.split(' ')[0], r.model, r.kernel, r.verdict])).toEqual([
      ['realigned', 'no', 'no', 'agree'],
      ['PTE-level', '1', '1', 'agree'],
      ['pages', '1', '1', 'agree'],
      ['PMD', '1', '1', 'agree'],
      ['PUD', '0', '0', 'agree'],
      ['huge', '0', '0', 'agree'],
      ['huge', '0', '0', 'agree'],
      ['THP', '0', '0', 'agree'],
    ]);
    expect(planDivergence(plan66, kernelCounts(walk61, allProbed).counts, rows)).toBeNull();
  });

  it('names the difference when the 6.7 plan meets a 6.1 walk', () => {
    const rows = comparePlan(plan67, walk61, allProbed);
    expect(rows.filter((r) => r.verdict === 'differ').map((r) => r.level)).toEqual([
      'realigned (try_realign_addr)',
      'PTE-level extents (move_ptes)',
      'pages in PTE-level extents',
      'PMD entries (move_normal_pmd)',
    ]);
    expect(planDivergence(plan67, kernelCounts(walk61, allProbed).counts, rows)).toBe(
      'plan differs: model 2 PMD (realigned), kernel 1 PTE + 1 PMD',
    );
  });

  it('counts a refused move_normal_pmd as no PMD move', () => {
    const refused: TracedWalk = {
      ...walk61,
      calls: { ...walk61.calls, move_normal_pmd: [{ old: 0x2000000n, moved: false }] },
    };
    expect(kernelCounts(refused, allProbed).counts.pmd).toBe(0);
  });

  it('cannot verify what was inlined with no callee to stand in, and says which function', () => {
    const rows = comparePlan(
      plan66,
      walk61,
      inline(['move_ptes', 'move_normal_pmd', 'flush_tlb_batched_pending']),
    );
    const byLevel = Object.fromEntries(rows.map((r) => [r.level, r]));
    expect(byLevel['PMD entries (move_normal_pmd)']).toMatchObject({
      verdict: 'cannot verify',
      kernel: '?',
      reason:
        'move_normal_pmd: not a symbol (inlined or absent); flush_tlb_batched_pending: not a symbol (inlined or absent)',
    });
    expect(byLevel['realigned (try_realign_addr)']!.reason).toBe(
      'move_ptes: not a symbol (inlined or absent)',
    );
    expect(byLevel['huge PMDs (move_huge_pmd)']!.verdict).toBe('agree');
  });

  it('derives inlined movers from their callees', () => {
    const t = inline(['move_ptes', 'move_normal_pmd', 'move_normal_pud']);
    const viaCallees: TracedWalk = {
      ...walk61,
      ptes: [],
      calls: { ...walk61.calls, move_normal_pmd: [] },
      callees: [
        { kind: 'batch' },
        { kind: 'flush', start: 0x1fff000n, end: 0x2000000n, stride: 12n },
        { kind: 'flush', start: 0x2000000n, end: 0x2200000n, stride: 12n },
      ],
    };
    const rows = comparePlan(plan66, viaCallees, t);
    expect(rows.map((r) => r.verdict)).toEqual(Array(8).fill('agree'));
    expect(rows[1]!.evidence).toBe('derived from flush_tlb_batched_pending + flush_tlb_mm_range');
    const rows67 = comparePlan(plan67, viaCallees, t);
    expect(planDivergence(plan67, kernelCounts(viaCallees, t).counts, rows67)).toBe(
      'plan differs: model 2 PMD (realigned), kernel 1 PTE + 1 PMD',
    );
  });

  it('cannot verify anything when no walk was traced', () => {
    const rows = comparePlan(plan66, undefined, allProbed);
    expect(new Set(rows.map((r) => r.verdict))).toEqual(new Set(['cannot verify']));
  });
});

describe('deriveFromCallees', () => {
  it('reads a PTE extent with nothing present as an extent of unknown pages', () => {
    const d = deriveFromCallees([
      { kind: 'batch' },
      { kind: 'batch' },
      { kind: 'flush', start: 0x3000n, end: 0x5000n, stride: 12n },
      { kind: 'flush', start: 0x200000n, end: 0x400000n, stride: 21n },
      { kind: 'flush', start: 0x40000000n, end: 0x80000000n, stride: 12n },
      { kind: 'flush', start: 0x1000n, end: 0x3000n, stride: 12n },
    ]);
    expect(d).toEqual({
      pteExtents: 2,
      ptePages: null,
      pmd: 0,
      pud: 1,
      starts: [0x3000n, 0x40000000n],
      odd: ['flush of 0x2000 bytes at 0x1000'],
    });
  });

  it("takes a THP move's or split's page-stride 2 MiB flush out, once each", () => {
    // x86: flush_pmd_tlb_range() is flush_tlb_range(), page stride like move_normal_pmd's.
    const split = { kind: 'flush' as const, start: 0x200000n, end: 0x400000n, stride: 12n };
    const d = deriveFromCallees(
      [
        split, // __split_huge_pmd at 0x2ff000, before its extent opens
        { kind: 'batch' },
        { ...split }, // move_ptes moved the whole PMD: the same range, now an extent
        { kind: 'flush', start: 0x600000n, end: 0x800000n, stride: 12n }, // move_huge_pmd
        { kind: 'flush', start: 0x800000n, end: 0xa00000n, stride: 12n }, // move_normal_pmd
      ],
      [0x200000n, 0x600000n],
    );
    expect(d).toEqual({
      pteExtents: 1,
      ptePages: 512,
      pmd: 1,
      pud: 0,
      starts: [0x200000n, 0x800000n],
      odd: [],
    });
  });
});

describe('kernelCounts with THP leaves', () => {
  const onlyCallees = inline([
    'move_ptes',
    'move_normal_pmd',
    'move_normal_pud',
    'move_huge_pud',
    'try_realign_addr',
  ]);
  const thpWalk: TracedWalk = {
    ...walk61,
    ptes: [],
    calls: {
      ...walk61.calls,
      move_normal_pmd: [],
      move_huge_pmd: [{ old: 0x2000000n, moved: true }],
    },
    callees: [{ kind: 'flush', start: 0x2000000n, end: 0x2200000n, stride: 12n }],
  };

  it('counts a moved THP as a huge PMD, not also as a PMD entry', () => {
    const k = kernelCounts(thpWalk, onlyCallees);
    expect(k.counts.hugePmd).toBe(1);
    expect(k.counts.pmd).toBe(0);
  });

  it('cannot verify PMD entries when a THP move has no traced address', () => {
    const blind: TracedWalk = {
      ...thpWalk,
      calls: { ...thpWalk.calls, move_huge_pmd: [{ old: null, moved: true }] },
    };
    const k = kernelCounts(blind, onlyCallees);
    expect(k.counts.pmd).toBeNull();
    expect(k.reasons.pmd).toMatch(/flushes 2 MiB like move_normal_pmd$/);
  });
});
