/**
 * mm/madvise.c: madvise_walk_vmas and the advice it applies per VMA (flag advice, discards,
 * guard regions, cold/pageout, populate).
 */
import { fault, fileIndex } from './fault.js';
import { madviseCollapse } from './khugepaged.js';
import { Mm, PAGE, type Pte, U64, ZERO_FRAME, floorPmd, pageAlignU64 } from './mm.js';
import { PMD } from './page-tables.js';
import {
  dropGuards,
  dropPte,
  ensureTables,
  reclaimPteTables,
  splitHugeAt,
  zapRange,
} from './pgtable.js';
import { anonVmaPrepare } from './rmap.js';
import { applyFlags } from './vma-ops.js';
import { FileObj, VM, VM_SPECIAL, Vma } from './vma.js';
import { MADV } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { type Err, type Result, ok } from '../space/result.js';

/**
 * mm/madvise.c:madvise_vma_behavior (and khugepaged.c:hugepage_madvise, ksm.c:ksm_madvise):
 * advice that only sets and clears VMA flags, as [set, clear].
 */
const FLAG_ADVICE: ReadonlyMap<number, readonly [number, number]> = new Map([
  [MADV.NORMAL, [0, VM.SEQ_READ | VM.RAND_READ]],
  [MADV.RANDOM, [VM.RAND_READ, VM.SEQ_READ]],
  [MADV.SEQUENTIAL, [VM.SEQ_READ, VM.RAND_READ]],
  [MADV.DONTFORK, [VM.DONTCOPY, 0]],
  [MADV.DOFORK, [0, VM.DONTCOPY]],
  [MADV.KEEPONFORK, [0, VM.WIPEONFORK]],
  [MADV.DONTDUMP, [VM.DONTDUMP, 0]],
  [MADV.DODUMP, [0, VM.DONTDUMP]],
  [MADV.MERGEABLE, [VM.MERGEABLE, 0]],
  [MADV.UNMERGEABLE, [0, VM.MERGEABLE]],
  [MADV.HUGEPAGE, [VM.HUGEPAGE, VM.NOHUGEPAGE]],
  [MADV.NOHUGEPAGE, [VM.NOHUGEPAGE, VM.HUGEPAGE]],
]);

/** mm/ksm.c:vma_ksm_compatible — VMAs KSM never merges. */
const KSM_INCOMPATIBLE =
  VM.SHARED | VM.MAYSHARE | VM.PFNMAP | VM.IO | VM.DONTEXPAND | VM.HUGETLB | VM.MIXEDMAP;

/**
 * mm/madvise.c:is_discard (mm/mseal.c:is_madv_discard before 6.17): advice that loses data,
 * refused on sealed read-only anonymous memory. DONTFORK/WIPEONFORK count: a child would not
 * see the data.
 */
const MADV_DISCARD: ReadonlySet<number> = new Set([
  MADV.FREE,
  MADV.DONTNEED,
  MADV.DONTNEED_LOCKED,
  MADV.REMOVE,
  MADV.DONTFORK,
  MADV.WIPEONFORK,
  MADV.GUARD_INSTALL,
]);

/**
 * mm/madvise.c:can_madvise_modify refuses a discard on a sealed VMA only when it is anonymous
 * (vma_is_anonymous: no vm_ops, so not shmem or a file) and not writable.
 */
function sealedAnonReadOnly(v: Vma): boolean {
  return (v.flags & VM.SEALED) !== 0 && v.isAnonymous && (v.flags & VM.WRITE) === 0;
}

export function doMadvise(mm: Mm, addr: bigint, length: bigint, advice: number): Result<0> {
  const tr = mm.tracer;
  tr.begin('madvise');
  let e;
  const known = new Set<number>(Object.values(MADV));
  if ((e = tr.check('madvise: offset_in_page(start)', (addr & 4095n) !== 0n, Errno.EINVAL)))
    return e;
  if ((e = tr.check('madvise_behavior_valid', !known.has(advice), Errno.EINVAL))) return e;
  const len = pageAlignU64(length);
  if ((e = tr.check('madvise: len_in && !len', length !== 0n && len === 0n, Errno.EINVAL)))
    return e;
  const endB = addr + len;
  if ((e = tr.check('madvise: end < start', endB > U64, Errno.EINVAL))) return e;
  if (len === 0n) return ok(0);
  const start = Number(addr);
  const end = Number(endB);
  const discard = MADV_DISCARD.has(advice);
  // 6.10–6.11: mm/mseal.c:can_modify_mm_madv checks the whole range before any advice.
  if (mm.profile.mseal === 'range' && discard) {
    for (let v = mm.tree.findVma(start); v !== null && v.start < end; v = v.next) {
      if (sealedAnonReadOnly(v)) return tr.fail('can_modify_mm_madv', Errno.EPERM);
    }
  }
  // 6.12+: madvise_vma_behavior checks each VMA as madvise_walk_vmas reaches it
  // (can_modify_vma_madv, 6.12; can_madvise_modify, 6.17): VMAs before a sealed one are
  // already advised when EPERM comes.
  const walk = (change: (v: Vma) => { flags: number; uffd: number | null } | Err | null) =>
    applyFlags(
      mm,
      start,
      end,
      'madvise',
      (v) =>
        mm.profile.mseal === 'vma' && discard && sealedAnonReadOnly(v)
          ? tr.fail('madvise_vma_behavior: can_madvise_modify', Errno.EPERM)
          : change(v),
      Errno.ENOMEM,
      false,
    );
  const setFlag = (set: number, clear: number) => (v: Vma) => ({
    flags: (v.flags | set) & ~clear,
    uffd: v.uffd,
  });
  switch (advice) {
    case MADV.NORMAL:
    case MADV.RANDOM:
    case MADV.SEQUENTIAL:
    case MADV.DONTFORK:
    case MADV.DOFORK:
    case MADV.KEEPONFORK:
    case MADV.DONTDUMP:
    case MADV.DODUMP:
    case MADV.MERGEABLE:
    case MADV.UNMERGEABLE:
    case MADV.HUGEPAGE:
    case MADV.NOHUGEPAGE: {
      const [set, clear] = FLAG_ADVICE.get(advice)!;
      // mm/ksm.c:ksm_madvise — a VMA that fails vma_ksm_compatible (shared, hugetlb,
      // special) takes MADV_MERGEABLE as a successful no-op: no flag, so no split.
      if (advice === MADV.MERGEABLE)
        return walk((v) => ((v.flags & KSM_INCOMPATIBLE) !== 0 ? null : setFlag(set, clear)(v)));
      return walk(setFlag(set, clear));
    }
    case MADV.WIPEONFORK:
      // mm/madvise.c:madvise_vma_behavior — "only supported on anonymous memory" (4.14).
      return walk((v) =>
        v.file !== null || (v.flags & VM.SHARED) !== 0
          ? tr.fail('madvise: MADV_WIPEONFORK on vm_file or VM_SHARED', Errno.EINVAL)
          : setFlag(VM.WIPEONFORK, 0)(v),
      );
    case MADV.DONTNEED:
    case MADV.DONTNEED_LOCKED:
    case MADV.FREE:
    case MADV.REMOVE:
      return walk((v) => madviseDiscardVma(mm, v, start, end, advice));
    case MADV.POPULATE_READ:
    case MADV.POPULATE_WRITE:
      return madvisePopulate(
        mm,
        start,
        end,
        advice === MADV.POPULATE_WRITE,
        mm.profile.populateWalksVmas,
      );
    case MADV.WILLNEED:
      return walk(() => null);
    case MADV.COLLAPSE:
      return walk((v) => madviseCollapse(mm, v, start, end));
    case MADV.GUARD_INSTALL:
    case MADV.GUARD_REMOVE:
      if (mm.profile.guardRegions === 'none')
        return tr.fail('madvise_behavior_valid: MADV_GUARD_* (6.13)', Errno.EINVAL);
      return walk((v) => madviseGuard(mm, v, start, end, advice === MADV.GUARD_INSTALL));
    case MADV.COLD:
    case MADV.PAGEOUT:
      return walk((v) => madviseColdOrPageout(mm, v, start, end, advice === MADV.PAGEOUT));
    default:
      return tr.fail('madvise: advice not modelled', Errno.EINVAL, `advice ${advice}`);
  }
}

/**
 * mm/madvise.c:madvise_cold / madvise_pageout for one VMA. can_madv_lru_vma: VM_LOCKED,
 * VM_PFNMAP and VM_HUGETLB are EINVAL (5.4). A partly covered THP is split
 * (madvise_cold_or_pageout_pte_range: split_folio). PAGEOUT reclaims what reclaim_pages →
 * shrink_folio_list can take from pages mm mm maps once: a clean lazily freed anonymous
 * page is discarded, a page-cache (shmem, memfd) page is unmapped and stays cached. A dirty
 * anonymous page stays mapped: the model assumes no swap (with swap it would be written
 * out and unmapped). The zero page is never reclaimed.
 */
export function madviseColdOrPageout(
  mm: Mm,
  v: Vma,
  start: number,
  end: number,
  pageout: boolean,
): Err | null {
  if ((v.flags & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) !== 0)
    return mm.tracer.fail('madvise_cold_or_pageout: can_madv_lru_vma', Errno.EINVAL);
  const s = Math.max(v.start, start);
  const e = Math.min(v.end, end);
  splitThpFolioAt(mm, v, s);
  splitThpFolioAt(mm, v, e);
  if (!pageout) return null;
  mm.forEachPte(s, e, (pn, pte) => {
    if (pte.zero || mm.pt.hugePmds.has(floorPmd(pn * PAGE))) return;
    if (pte.fpage !== null) {
      if (mappedOnce(mm, pte)) dropPte(mm, pn, pte);
    } else if (pte.lazy === true && mm.world.refs.get(pte.frame) === 1) {
      dropPte(mm, pn, pte);
    }
  });
  return null;
}

/** folio_maybe_mapped_shared for a page-cache page: mapped by more than one PTE anywhere. */
export function mappedOnce(mm: Mm, pte: Pte): boolean {
  let n = 0;
  for (const sp of mm.world.spaces)
    for (const p of sp.ptes.values()) if (p.fpage === pte.fpage) n++;
  return n <= 1;
}

/**
 * split_folio of a PMD-mapped anonymous THP that addr cuts (madvise's partial-THP paths):
 * the PMD is split, and since 6.12 remap_page(RMP_USE_SHARED_ZEROPAGE) maps every all-zero
 * subpage to the zero page (try_to_map_unused_to_zeropage: not in VM_LOCKED VMAs, not when
 * the zero page is forbidden).
 */
export function splitThpFolioAt(mm: Mm, v: Vma, addr: number): void {
  const slot = floorPmd(addr);
  if (slot === addr || !mm.pt.hugePmds.has(slot) || !v.isAnonymous) return;
  splitHugeAt(mm, addr);
  if (!mm.profile.thpSplitZeroRemap || !mm.o.traits.zeroPage || (v.flags & VM.LOCKED) !== 0) return;
  mm.forEachPte(slot, slot + PMD, (pn, pte) => {
    if (pte.zero || pte.fpage !== null || pte.tag !== 0n) return;
    dropPte(mm, pn, pte);
    mm.ptes.set(pn, { frame: ZERO_FRAME, tag: 0n, fpage: null, zero: true, thp: false });
  });
}

/**
 * mm/shmem.c:shmem_fallocate(PUNCH_HOLE) → unmap_mapping_range(even_cows = 0): every
 * mapping of the file, in every process, loses its PTEs of the punched page-cache pages;
 * private CoW copies stay. Then the pages leave the cache.
 */
export function punchHole(mm: Mm, file: FileObj, first: number, last: number): void {
  for (const sp of mm.world.spaces) {
    for (const v of sp.tree) {
      if (v.file !== file) continue;
      const a = Math.max(v.start, v.start + (first - v.pgoff) * PAGE);
      const b = Math.min(v.end, v.start + (last - v.pgoff) * PAGE);
      if (a >= b) continue;
      sp.forEachPte(a, b, (pn, pte) => {
        if (pte.fpage !== null) dropPte(sp, pn, pte);
      });
    }
  }
  for (let i = first; i < last; i++) file.pages.delete(i);
}

/**
 * mm/madvise.c:madvise_guard_install / madvise_guard_remove for one VMA. is_valid_guard_vma:
 * no VM_SPECIAL or VM_HUGETLB, and for install no VM_LOCKED (remove is non-destructive);
 * 6.13–6.14 also wanted an anonymous VMA with VM_MAYWRITE. Install gives the VMA an anon_vma
 * (anon_vma_prepare, so fork copies the markers; ≤6.18 for every VMA), zaps what is
 * mapped (zap_page_range_single: a partly covered THP is split, page-cache pages stay
 * cached) and leaves a marker in every page; existing markers stay.
 */
export function madviseGuard(
  mm: Mm,
  v: Vma,
  start: number,
  end: number,
  install: boolean,
): Err | null {
  const disallowed = VM_SPECIAL | VM.HUGETLB | (install ? VM.LOCKED : 0);
  const anonOnly =
    mm.profile.guardRegions === 'anon' && (!v.isAnonymous || (v.flags & VM.MAYWRITE) === 0);
  if ((v.flags & disallowed) !== 0 || anonOnly)
    return mm.tracer.fail('is_valid_guard_vma', Errno.EINVAL);
  const s = Math.max(v.start, start);
  const e = Math.min(v.end, end);
  if (!install) {
    dropGuards(mm, s, e);
    return null;
  }
  anonVmaPrepare(mm, v);
  zapRange(mm, s, e);
  for (let a = s; a < e; a += PAGE) {
    mm.guards.add(a / PAGE);
    ensureTables(mm, a);
  }
  return null;
}

/** One VMA of MADV_DONTNEED(_LOCKED), FREE or REMOVE (null: no flag change). */
export function madviseDiscardVma(
  mm: Mm,
  v: Vma,
  start: number,
  end: number,
  advice: number,
): Err | null {
  const tr = mm.tracer;
  const s = Math.max(v.start, start);
  const e = Math.min(v.end, end);
  // mm/madvise.c:madvise_dontneed_free_valid_vma — VM_PFNMAP always, and VM_LOCKED
  // unless MADV_DONTNEED_LOCKED (5.18), make DONTNEED/FREE fail with EINVAL.
  if (advice === MADV.DONTNEED || advice === MADV.FREE || advice === MADV.DONTNEED_LOCKED) {
    const forbidden = VM.PFNMAP | (advice === MADV.DONTNEED_LOCKED ? 0 : VM.LOCKED);
    if ((v.flags & forbidden) !== 0 && (v.flags & VM.HUGETLB) === 0) {
      return tr.fail('madvise_dontneed_free_valid_vma', Errno.EINVAL);
    }
  }
  // mm/madvise.c:madvise_free_single_vma — anonymous VMAs only (4.5).
  if (advice === MADV.FREE && !v.isAnonymous) {
    return tr.fail('madvise_free_single_vma: !vma_is_anonymous', Errno.EINVAL);
  }
  if (advice === MADV.FREE) {
    // mm/madvise.c:madvise_free_pte_range — a partly covered THP is split (split_folio);
    // exclusive anonymous pages become lazily free and stay mapped until reclaim.
    splitThpFolioAt(mm, v, s);
    splitThpFolioAt(mm, v, e);
    mm.forEachPte(s, e, (_pn, pte) => {
      if (pte.fpage === null && !pte.zero && mm.world.refs.get(pte.frame) === 1) pte.lazy = true;
    });
    return null;
  }
  if (advice === MADV.REMOVE) {
    // mm/madvise.c:madvise_remove — a locked VMA or one without a file is EINVAL; a
    // file mapping that is not shared-writable is EACCES (punch hole needs write).
    if ((v.flags & VM.LOCKED) !== 0 || v.file === null) {
      return tr.fail('madvise_remove: VM_LOCKED or no vm_file', Errno.EINVAL);
    }
    if ((v.flags & VM.SHARED) === 0 || (v.flags & VM.MAYWRITE) === 0) {
      return tr.fail('madvise_remove: !vma_is_shared_maywrite', Errno.EACCES);
    }
    punchHole(mm, v.file, fileIndex(mm, v, s), fileIndex(mm, v, e));
  }
  zapRange(mm, s, e);
  if (advice !== MADV.REMOVE && mm.o.traits.ptReclaim) reclaimPteTables(mm, s, e);
  return null;
}

/**
 * 6.10+: madvise_populate on the whole range, the first hole fails. Before (`walk`), it was a
 * madvise_walk_vmas visitor: holes skipped, every VMA populated, ENOMEM at the end.
 */
export function madvisePopulate(
  mm: Mm,
  start: number,
  end: number,
  write: boolean,
  walk: boolean,
): Result<0> {
  const tr = mm.tracer;
  let tmp = start;
  let hole = false;
  for (let v = mm.tree.findVma(start); v !== null && v.start < end; v = v.next) {
    if (v.start > tmp && !walk) return tr.fail('madvise_populate: hole', Errno.ENOMEM);
    hole ||= v.start > tmp;
    // mm/gup.c:__get_user_pages — under FOLL_MADV_POPULATE a check_vma_flags() failure
    // (no VM_WRITE for a write, no VM_READ for a read) is EINVAL, not EFAULT (5.14; 6.9 form).
    const ok_ = write ? (v.flags & VM.WRITE) !== 0 : (v.flags & VM.READ) !== 0;
    if (!ok_) return tr.fail('madvise_populate: check_vma_flags', Errno.EINVAL);
    const s = Math.max(v.start, start);
    const e = Math.min(v.end, end);
    for (let a = s; a < e; a += PAGE) {
      const pte = mm.ptes.get(a / PAGE);
      if (pte !== undefined && !write) continue;
      if (
        pte !== undefined &&
        write &&
        ((v.flags & VM.SHARED) !== 0 ||
          (pte.fpage === null && !pte.zero && mm.world.refs.get(pte.frame) === 1))
      )
        continue;
      const r = fault(mm, v, a, write, null);
      if (!r.ok) return r;
    }
    tmp = e;
  }
  if (hole || tmp < end) return tr.fail('madvise_populate: unmapped', Errno.ENOMEM);
  return ok(0);
}
