import { describe, expect, test } from 'vitest';
import {
  canAlignDown,
  planMovePageTables,
  summarizePlan,
  vmasPredicate,
  type MovePlanInput,
} from '../../src/model/page-tables.js';
import { MREMAP } from '../../src/space/constants.js';
import { anon, fill, space, value } from './helpers.js';

/** Linus's example state: source PMDs populated, nothing else mapped. */
function linusInput(realign: boolean, over: Partial<MovePlanInput> = {}): MovePlanInput {
  const old = 0x1fff000;
  const len = 0x201000;
  const nw = over.new ?? 0x0fff000;
  return {
    old,
    new: nw,
    len,
    oldVma: { start: old, end: old + len },
    newVma: { start: nw, end: nw + len },
    anyVmaIn: vmasPredicate([
      { start: old, end: old + len },
      { start: nw, end: nw + len },
    ]),
    state: {
      pteTables: new Set([0x1e00000, 0x2000000]),
      pmdTables: new Set([0]),
      hugePmds: new Set(),
      presentIn: (s, e) => (Math.min(e, old + len) - Math.max(s, old)) / 4096,
    },
    realign,
    ...over,
  };
}

describe('move_page_tables — Linus example 1 (old=0x1fff000 new=0x0fff000 len=0x201000)', () => {
  test('linux-6.6 (no try_realign_addr): one PTE-level move of 1 page, then one PMD move', () => {
    const plan = planMovePageTables(linusInput(false));
    expect(plan.realigned).toBe(false);
    expect(plan.extents.map((e) => [e.level, e.size, e.ptes])).toEqual([
      ['pte', 0x1000, 1],
      ['pmd', 0x200000, 512],
    ]);
    expect(summarizePlan(plan)).toBe('pte 0x1000 (1 PTE), pmd 0x200000');
  });

  test('linux-6.7+ try_realign_addr/can_align_down: two PMD moves, no PTE moves', () => {
    const plan = planMovePageTables(linusInput(true));
    expect(plan.realigned).toBe(true);
    expect(plan.walkOld).toBe(0x1e00000);
    expect(plan.walkNew).toBe(0x0e00000);
    expect(plan.extents.map((e) => [e.level, e.oldAddr, e.newAddr, e.size])).toEqual([
      ['pmd', 0x1e00000, 0x0e00000, 0x200000],
      ['pmd', 0x2000000, 0x1000000, 0x200000],
    ]);
    expect(plan.ptesMoved).toBe(0);
  });

  test('the same move through ModelSpace on linux-6.6 vs linux-6.7 (mremap FIXED)', () => {
    for (const [profile, expected] of [
      ['linux-6.6', 'pte 0x1000 (1 PTE), pmd 0x200000'],
      ['linux-6.7', 'pmd 0x200000, pmd 0x200000'],
      ['linux-6.18', 'pmd 0x200000, pmd 0x200000'],
    ] as const) {
      const s = space(profile);
      anon(s, 0x1fff000n, 0x201);
      fill(s, 0x1fff000n, 0x201);
      const r = s.remap({
        addr: 0x1fff000n,
        oldLen: 0x201000n,
        newLen: 0x201000n,
        flags: MREMAP.MAYMOVE | MREMAP.FIXED,
        newAddr: 0x0fff000n,
      });
      expect(value(r)).toBe(0x0fff000n);
      expect(summarizePlan(s.lastTrace.plans[0]!)).toBe(expected);
      expect(value(s.read(0x0fff000n))).toBe(0x1fff000n);
      expect(value(s.read(0x11ff000n))).toBe(0x21ff000n);
    }
  });
});

describe('move_page_tables — Linus example 2 (exec relocate_vma_down, for_stack)', () => {
  const stack = { start: 0x1dff000, end: 0x2200000 };
  const input = (realign: boolean): MovePlanInput =>
    linusInput(realign, {
      new: 0x1dff000,
      oldVma: stack,
      newVma: stack,
      anyVmaIn: vmasPredicate([stack]),
      forStack: true,
    });

  test('without realignment: PTE move of 1 page, then the PMD move hits the leftover table → 512-PTE fallback', () => {
    const plan = planMovePageTables(input(false));
    expect(plan.extents.map((e) => [e.level, e.size, e.ptes])).toEqual([
      ['pte', 0x1000, 1],
      ['pte', 0x200000, 512],
    ]);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toContain('WARN_ON_ONCE');
  });

  test('with realignment (can_align_down for_stack accepts in-VMA alignment): two PMD moves, no warning', () => {
    const plan = planMovePageTables(input(true));
    expect(plan.realigned).toBe(true);
    expect(plan.extents.map((e) => [e.level, e.oldAddr, e.newAddr])).toEqual([
      ['pmd', 0x1e00000, 0x1c00000],
      ['pmd', 0x2000000, 0x1e00000],
    ]);
    expect(plan.warnings).toEqual([]);
  });
});

describe("can_align_down — Joel's |DDDDddddSSSSssss| case", () => {
  test('a source range that starts mid-VMA is never realigned (would destroy SSSS)', () => {
    // One 2 MiB VMA [0x1e00000,0x2000000) — S then s, 256 KiB per letter pair; move ssss down to dddd.
    const vma = { start: 0x1e00000, end: 0x2000000 };
    const r = canAlignDown(vma, 0x1f00000, vmasPredicate([vma]), false);
    expect(r.ok).toBe(false);
    expect(r.why).toContain('not at 0x1f00000');
  });

  test('through ModelSpace on linux-6.7: moving the tail of a VMA to a mutually aligned spot stays PTE-level', () => {
    const s = space('linux-6.7');
    anon(s, 0x40000000n, 0x400); // 4 MiB: |DDDDddddSSSSssss| at 256 KiB per letter
    fill(s, 0x40000000n, 0x400);
    const ssss = 0x40000000n + 0x300000n;
    const dddd = 0x40000000n + 0x100000n; // inside the same VMA: first unmap it to make room
    value(s.unmap(dddd, 0x100000n));
    const r = s.remap({
      addr: ssss,
      oldLen: 0x100000n,
      newLen: 0x100000n,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: dddd,
    });
    expect(value(r)).toBe(dddd);
    const plan = s.lastTrace.plans[0]!;
    expect(plan.realigned).toBe(false);
    expect(plan.realignReason).toContain('can_align_down(old)');
    expect(plan.extents.map((e) => e.level)).toEqual(['pte']);
    // SSSS is intact.
    expect(value(s.read(0x40200000n))).toBe(0x40200000n);
    expect(value(s.read(dddd))).toBe(ssss);
  });
});

describe('move_page_tables — THP and unpopulated slots', () => {
  test('aligned THP move keeps the huge PMD (move_huge_pmd); misaligned move splits it', () => {
    const s = space('linux-6.18');
    anon(s, 0x40000000n, 1024);
    value(s.advise(0x40000000n, 0x400000n, 14 /* HUGEPAGE */));
    value(s.touch(0x40000000n, 1n));
    value(s.touch(0x40200000n, 2n));
    value(
      s.remap({
        addr: 0x40000000n,
        oldLen: 0x400000n,
        newLen: 0x400000n,
        flags: 3n,
        newAddr: 0x80000000n,
      }),
    );
    expect(s.lastTrace.plans[0]!.extents.map((e) => e.level)).toEqual(['huge-pmd', 'huge-pmd']);
    const snap = s.snapshot(0x80000000n, 0x80002000n);
    expect(snap.pages.map((p) => [p.thp, p.tag])).toEqual([
      [true, 1n],
      [true, 0n],
    ]);
    value(
      s.remap({
        addr: 0x80000000n,
        oldLen: 0x400000n,
        newLen: 0x400000n,
        flags: 3n,
        newAddr: 0xc0001000n,
      }),
    );
    const plan = s.lastTrace.plans[0]!;
    expect(plan.extents.every((e) => e.level === 'pte')).toBe(true);
    expect(plan.extents[0]!.thpSplit).toBe(true);
    expect(value(s.read(0xc0001000n))).toBe(1n);
  });

  test('unfaulted source: every extent is skipped (no page tables)', () => {
    const s = space('linux-6.18');
    anon(s, 0x40000000n, 1024);
    value(
      s.remap({
        addr: 0x40000000n,
        oldLen: 0x400000n,
        newLen: 0x400000n,
        flags: 3n,
        newAddr: 0x80000000n,
      }),
    );
    expect(s.lastTrace.plans[0]!.extents.map((e) => [e.level, e.skipped])).toEqual([
      ['skip', 'pud'],
    ]);
  });
});
