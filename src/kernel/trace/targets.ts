/**
 * The mm/mremap.c functions whose calls make up move_page_tables()'s plan, and what a
 * kprobe on each fetches. x86_64 $argN is the C argument N at function entry
 * (Documentation/trace/kprobetrace.rst), so the fetches depend on the signatures, which
 * are the same from 6.1 up to 6.15; 6.16 (pagetable_move_control) passes a struct instead,
 * and there only calls are counted, never addresses.
 */

export type TargetName =
  | 'move_page_tables'
  | 'move_ptes'
  | 'move_normal_pmd'
  | 'move_normal_pud'
  | 'move_huge_pmd'
  | 'move_huge_pud'
  | '__split_huge_pmd'
  | 'try_realign_addr'
  | 'flush_tlb_batched_pending'
  | 'flush_tlb_mm_range';

export interface Target {
  fn: TargetName;
  /**
   * A callee that stands in for an inlined mover: move_ptes() calls it once per extent
   * (flush_tlb_batched_pending), or every mover flushes its range (flush_tlb_mm_range).
   */
  callee?: boolean;
  /** What a call means for the plan. */
  means: string;
  /** Fetch args for kernels 6.1–6.15 (name=$argN:type …). */
  args: string;
  /** Also probe the return: false from move_normal_* means the walk fell back a level. */
  ret: boolean;
}

export const TARGETS: readonly Target[] = [
  {
    fn: 'move_page_tables',
    means: 'the walk itself (old, new, len) and how much it moved',
    args: 'old=$arg2:x64 new=$arg4:x64 len=$arg5:x64',
    ret: true,
  },
  {
    fn: 'move_ptes',
    means: 'one PTE-level extent [old, end)',
    args: 'old=$arg3:x64 end=$arg4:x64 new=$arg7:x64',
    ret: false,
  },
  {
    fn: 'move_normal_pmd',
    means: 'one PMD entry (a PTE table) relinked',
    args: 'old=$arg2:x64 new=$arg3:x64',
    ret: true,
  },
  {
    fn: 'move_normal_pud',
    means: 'one PUD entry (a PMD table) relinked',
    args: 'old=$arg2:x64 new=$arg3:x64',
    ret: true,
  },
  {
    fn: 'move_huge_pmd',
    means: 'one THP PMD leaf moved',
    args: 'old=$arg2:x64 new=$arg3:x64',
    ret: true,
  },
  {
    fn: 'move_huge_pud',
    means: 'one huge PUD leaf moved',
    args: 'old=$arg2:x64 new=$arg3:x64',
    ret: true,
  },
  {
    fn: '__split_huge_pmd',
    means: 'a THP PMD split before a PTE-level move',
    args: 'addr=$arg3:x64',
    ret: false,
  },
  {
    fn: 'try_realign_addr',
    means: 'the 6.7+ realignment was tried (whether it applied shows in the walk start)',
    args: '',
    ret: false,
  },
  // move_ptes() and move_normal_pmd/pud() are static and inlined into move_page_tables() on
  // Debian's 6.1 and 6.12: no symbol, no kprobe. Their non-inlined callees still show each
  // call: move_ptes() calls flush_tlb_batched_pending() once after taking the PTE locks and
  // flushes [old_end - len, old_end) when it moved a present PTE; move_normal_pmd() flushes
  // [old, old + PMD_SIZE), move_normal_pud() [old, old + PUD_SIZE); on x86 flush_tlb_range()
  // is flush_tlb_mm_range(mm, start, end, PAGE_SHIFT, false). So is flush_pmd_tlb_range()
  // (the generic one: x86 has no __HAVE_ARCH_FLUSH_PMD_TLB_RANGE), which THP moves and splits
  // call on [haddr, haddr + PMD_SIZE): those are counted by their own probes and their
  // flushes taken out by address (plan-verdict.ts deriveFromCallees).
  {
    fn: 'flush_tlb_batched_pending',
    callee: true,
    means: 'one move_ptes() call (its only caller inside move_page_tables)',
    args: '',
    ret: false,
  },
  {
    fn: 'flush_tlb_mm_range',
    callee: true,
    means: 'the range a mover flushed: a PTE extent, a PMD or a PUD entry',
    args: 'start=$arg2:x64 end=$arg3:x64 stride=$arg4:u32',
    ret: false,
  },
];

/** Whether the $argN fetches above match this release's signatures (6.1 ≤ r < 6.16). */
export function argsApply(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return false;
  const v = Number(m[1]) * 1000 + Number(m[2]);
  return v >= 6001 && v < 6016;
}
