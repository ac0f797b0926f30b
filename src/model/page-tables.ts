/**
 * The move plan of mm/mremap.c:move_page_tables(): which entries move at which level.
 * Pure: given addresses, the old/new VMA extents, the other VMAs (for can_align_down) and
 * page-table state, it simulates the walk, including the tables it creates and relinks, so
 * a leftover PTE table met later in the same walk (Linus's example 2) is seen.
 */

export const PS = 4096;
export const PMD = 0x200000;
export const PUD = 0x40000000;

export type ExtentLevel = 'skip' | 'pud' | 'huge-pud' | 'huge-pmd' | 'pmd' | 'pte';

export interface PlanExtent {
  level: ExtentLevel;
  /** For 'skip': the level whose empty entry was skipped. */
  skipped?: 'pud' | 'pmd';
  oldAddr: number;
  newAddr: number;
  size: number;
  /** Present PTEs moved (move_ptes), or pages covered by a moved table/leaf. */
  ptes: number;
  /** A THP PMD was split because the extent was smaller than HPAGE_PMD_SIZE. */
  thpSplit: boolean;
  /** move_normal_pmd/pud refused and the walk fell back (WARN_ON_ONCE for a non-none destination). */
  fallback?: string;
}

export interface MovePlan {
  oldAddr: number;
  newAddr: number;
  len: number;
  /** try_realign_addr applied (6.7+). */
  realigned: boolean;
  /** Why realignment did or did not apply. */
  realignReason: string;
  /** Walk start after realignment. */
  walkOld: number;
  walkNew: number;
  extents: PlanExtent[];
  /** Counts per level. */
  counts: Record<ExtentLevel, number>;
  ptesMoved: number;
  warnings: string[];
}

export interface Extent {
  start: number;
  end: number;
}

/** Page-table state the walk reads and updates (addresses are slot bases). */
export interface PageTableState {
  /** 2 MiB slots whose PMD entry points at a PTE table. */
  pteTables: Set<number>;
  /** 1 GiB slots whose PUD entry points at a PMD table. */
  pmdTables: Set<number>;
  /** 2 MiB slots mapped by a THP PMD leaf. */
  hugePmds: Set<number>;
  /** Present pages in [start, end) (for PTE counts). */
  presentIn(start: number, end: number): number;
}

export interface MovePlanInput {
  old: number;
  new: number;
  len: number;
  oldVma: Extent;
  newVma: Extent;
  /**
   * find_vma_intersection for can_align_down: is any VMA other than `except` mapped in
   * [start, end)? Use vmasPredicate() to build it from a list.
   */
  anyVmaIn: (start: number, end: number, except: Extent) => boolean;
  state: PageTableState;
  /** Profile switch: try_realign_addr exists (6.7+). */
  realign: boolean;
  /** exec's relocate_vma_down (fs/exec.c): overlapping moves allowed, in-VMA align-down accepted. */
  forStack?: boolean;
  haveMovePmd?: boolean;
  haveMovePud?: boolean;
  /** The VMA is uffd-armed without EVENT_REMAP and the profile refuses table moves for it. */
  uffdBlocksTableMove?: boolean;
}

const floorTo = (x: number, a: number): number => x - (x % a);
const nextBoundary = (x: number, a: number): number => floorTo(x, a) + a;

/** mm/mremap.c:get_extent — distance to the next boundary of both addresses, capped by what is left. */
export function getExtent(old: number, oldEnd: number, nw: number, size: number): number {
  return Math.min(nextBoundary(old, size) - old, oldEnd - old, nextBoundary(nw, size) - nw);
}

/** Builds MovePlanInput.anyVmaIn from a list of VMA extents. */
export function vmasPredicate(
  vmas: readonly Extent[],
): (start: number, end: number, except: Extent) => boolean {
  return (start, end, except) => {
    for (const v of vmas) {
      if (v.start === except.start && v.end === except.end) continue;
      if (v.start < end && start < v.end) return true;
    }
    return false;
  };
}

/**
 * mm/mremap.c:can_align_down (6.7, af8ca1c14906 + "allow moves within the same VMA for stack"):
 * aligning addr down to the PMD must not reach into another mapping.
 */
export function canAlignDown(
  vma: Extent,
  addr: number,
  anyVmaIn: (start: number, end: number, except: Extent) => boolean,
  forStack: boolean,
): { ok: boolean; why: string } {
  const masked = floorTo(addr, PMD);
  if (forStack && masked >= vma.start) return { ok: true, why: 'stack move stays inside the VMA' };
  if (vma.start !== addr)
    return {
      ok: false,
      why: `VMA starts at 0x${vma.start.toString(16)}, not at 0x${addr.toString(16)}`,
    };
  if (anyVmaIn(masked, vma.start, vma))
    return {
      ok: false,
      why: `a VMA intersects [0x${masked.toString(16)}, 0x${vma.start.toString(16)})`,
    };
  return { ok: true, why: 'nothing mapped below in the PMD' };
}

/** mm/mremap.c:try_realign_addr (6.7+): realign both addresses down to the PMD when mutually aligned. */
export function tryRealignAddr(input: MovePlanInput): { ok: boolean; why: string } {
  if (!input.realign) return { ok: false, why: 'profile predates try_realign_addr (6.7)' };
  const off = input.old % PMD;
  if (off === 0) return { ok: false, why: 'old address already PMD aligned' };
  if (input.len < PMD - off) return { ok: false, why: 'move does not reach the next PMD boundary' };
  if (input.new % PMD !== off)
    return { ok: false, why: 'old and new are not mutually PMD aligned' };
  const forStack = input.forStack ?? false;
  const a = canAlignDown(input.oldVma, input.old, input.anyVmaIn, forStack);
  if (!a.ok) return { ok: false, why: `can_align_down(old): ${a.why}` };
  const b = canAlignDown(input.newVma, input.new, input.anyVmaIn, forStack);
  if (!b.ok) return { ok: false, why: `can_align_down(new): ${b.why}` };
  return { ok: true, why: `mutually aligned at offset 0x${off.toString(16)}` };
}

/** Moves table/leaf bookkeeping from one slot to another. */
function relinkSlots(set: Set<number>, from: number, to: number, span: number, unit: number): void {
  const moved: number[] = [];
  for (let a = from; a < from + span; a += unit) if (set.delete(a)) moved.push(a - from);
  for (const off of moved) set.add(to + off);
}

/**
 * mm/mremap.c:move_page_tables — simulate the walk and return the plan. The state is updated
 * in place to what the walk leaves behind (tables relinked, destination tables allocated).
 */
export function planMovePageTables(input: MovePlanInput): MovePlan {
  const st = input.state;
  const counts: Record<ExtentLevel, number> = {
    skip: 0,
    pud: 0,
    'huge-pud': 0,
    'huge-pmd': 0,
    pmd: 0,
    pte: 0,
  };
  const plan: MovePlan = {
    oldAddr: input.old,
    newAddr: input.new,
    len: input.len,
    realigned: false,
    realignReason: '',
    walkOld: input.old,
    walkNew: input.new,
    extents: [],
    counts,
    ptesMoved: 0,
    warnings: [],
  };
  if (input.len === 0) {
    plan.realignReason = 'len == 0';
    return plan;
  }
  let old = input.old;
  let nw = input.new;
  const oldEnd = input.old + input.len;
  const r = tryRealignAddr(input);
  plan.realignReason = r.why;
  if (r.ok) {
    old = floorTo(old, PMD);
    nw = floorTo(nw, PMD);
    plan.realigned = true;
  }
  plan.walkOld = old;
  plan.walkNew = nw;
  const movePmd = input.haveMovePmd ?? true;
  const movePud = input.haveMovePud ?? true;
  const tablesOk = !(input.uffdBlocksTableMove ?? false);
  const push = (e: PlanExtent): void => {
    plan.extents.push(e);
    counts[e.level]++;
    plan.ptesMoved += e.level === 'pte' ? e.ptes : 0;
  };
  while (old < oldEnd) {
    let ext = getExtent(old, oldEnd, nw, PUD);
    const oldPud = floorTo(old, PUD);
    const newPud = floorTo(nw, PUD);
    if (!st.pmdTables.has(oldPud)) {
      push({
        level: 'skip',
        skipped: 'pud',
        oldAddr: old,
        newAddr: nw,
        size: ext,
        ptes: 0,
        thpSplit: false,
      });
      old += ext;
      nw += ext;
      continue;
    }
    if (ext === PUD && movePud) {
      // move_normal_pud: needs an empty destination PUD entry.
      if (!tablesOk) {
        // falls through to the PMD level
      } else if (st.pmdTables.has(newPud)) {
        plan.warnings.push(`move_normal_pud: destination PUD 0x${newPud.toString(16)} not none`);
      } else {
        const pages = st.presentIn(old, old + ext);
        st.pmdTables.delete(oldPud);
        st.pmdTables.add(newPud);
        relinkSlots(st.pteTables, old, nw, PUD, PMD);
        relinkSlots(st.hugePmds, old, nw, PUD, PMD);
        push({ level: 'pud', oldAddr: old, newAddr: nw, size: ext, ptes: pages, thpSplit: false });
        old += ext;
        nw += ext;
        continue;
      }
    }
    ext = getExtent(old, oldEnd, nw, PMD);
    const oldSlot = floorTo(old, PMD);
    const newSlot = floorTo(nw, PMD);
    const huge = st.hugePmds.has(oldSlot);
    if (!huge && !st.pteTables.has(oldSlot)) {
      push({
        level: 'skip',
        skipped: 'pmd',
        oldAddr: old,
        newAddr: nw,
        size: ext,
        ptes: 0,
        thpSplit: false,
      });
      old += ext;
      nw += ext;
      continue;
    }
    st.pmdTables.add(newPud); // alloc_new_pmd
    let thpSplit = false;
    if (huge) {
      if (ext === PMD) {
        st.hugePmds.delete(oldSlot);
        st.hugePmds.add(newSlot);
        push({
          level: 'huge-pmd',
          oldAddr: old,
          newAddr: nw,
          size: ext,
          ptes: PMD / PS,
          thpSplit: false,
        });
        old += ext;
        nw += ext;
        continue;
      }
      // split_huge_pmd: the THP becomes PTE-mapped, then move_ptes.
      st.hugePmds.delete(oldSlot);
      st.pteTables.add(oldSlot);
      thpSplit = true;
    } else if (ext === PMD && movePmd && tablesOk) {
      if (st.pteTables.has(newSlot) || st.hugePmds.has(newSlot)) {
        plan.warnings.push(
          `move_normal_pmd: WARN_ON_ONCE(!pmd_none) at destination 0x${newSlot.toString(16)}; falling back to PTEs`,
        );
      } else {
        const pages = st.presentIn(old, old + ext);
        st.pteTables.delete(oldSlot);
        st.pteTables.add(newSlot);
        push({ level: 'pmd', oldAddr: old, newAddr: nw, size: ext, ptes: pages, thpSplit: false });
        old += ext;
        nw += ext;
        continue;
      }
    }
    st.pteTables.add(newSlot); // pte_alloc
    const ptes = st.presentIn(old, old + ext);
    push({ level: 'pte', oldAddr: old, newAddr: nw, size: ext, ptes, thpSplit });
    old += ext;
    nw += ext;
  }
  return plan;
}

/** Compact one-line rendering: `pte 0x1000 (1 PTE), pmd 0x200000`. */
export function summarizePlan(plan: MovePlan): string {
  if (plan.extents.length === 0) return '(nothing to move)';
  return plan.extents
    .map((e) => {
      const lvl = e.level === 'skip' ? `skip-${e.skipped ?? ''}` : e.level;
      const extra = e.level === 'pte' ? ` (${e.ptes} PTE${e.ptes === 1 ? '' : 's'})` : '';
      return `${lvl} 0x${e.size.toString(16)}${extra}${e.thpSplit ? ' thp-split' : ''}`;
    })
    .join(', ');
}
