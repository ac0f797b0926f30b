/**
 * VMA merging: mm/vma.c is_mergeable_vma, is_mergeable_anon_vma, can_vma_merge_{before,after},
 * can_vma_merge_{left,right}, vma_merge_new_range and vma_merge_existing_range. One
 * VmaMergeState (≙ struct vma_merge_struct) carries the proposed range through the helpers.
 */
import type { Profile } from './profiles.js';
import { VM, VM_SPECIAL, type AnonVma, type FileObj, type Vma } from './vma.js';
import type { VmaTree } from './vma-tree.js';

/** Flags that never block a merge: VM_SOFTDIRTY up to 6.18 (VMA_IGNORE_MERGE_FLAGS). */
export const VM_IGNORE_MERGE = VM.SOFTDIRTY;

/** struct vma_merge_struct, reduced to what the model tracks (no mempolicy, no anon name). */
export interface VmaMergeState {
  prev: Vma | null;
  next: Vma | null;
  /** The VMA being modified (existing-range merges), else null. */
  middle: Vma | null;
  start: number;
  end: number;
  flags: number;
  file: FileObj | null;
  pgoff: number;
  anonVma: AnonVma | null;
  /** anon_vma_chain length that comes with anonVma (dup_anon_vma copies the source chain). */
  chainLen: number;
  uffd: number | null;
  /** copy_vma's source VMA (Jan-2026 vmg->copied_from), else null. */
  copiedFrom: Vma | null;
}

/** mm/vma.c:vma_is_fork_child (vma_had_uncowed_parents before 6.18): anon_vma chain not singular. */
export function vmaIsForkChild(vma: Vma | null): boolean {
  return vma !== null && vma.anonVma !== null && vma.chainLen > 1;
}

/** mm/vma.c:is_mergeable_vma — flags (minus ignored), same file, same uffd ctx. */
export function isMergeableVma(vmg: VmaMergeState, tgt: Vma): boolean {
  if (((tgt.flags ^ vmg.flags) & ~VM_IGNORE_MERGE) !== 0) return false;
  if (tgt.file !== vmg.file) return false;
  if (tgt.uffd !== vmg.uffd) return false;
  return true;
}

/** mm/vma.c:is_mergeable_anon_vma — 6.16 879bca0a2c4f cases 1–3, or the pre-6.16 chain-singular rule. */
export function isMergeableAnonVma(profile: Profile, vmg: VmaMergeState, tgt: Vma): boolean {
  const tgtAnon = tgt.anonVma;
  const srcAnon = vmg.anonVma;
  if (profile.anonMerge === 'pre-6.16') {
    // ≤6.15 is_mergeable_anon_vma(anon1, anon2, tgt): a NULL side merges only if tgt's chain is singular.
    if ((tgtAnon === null || srcAnon === null) && tgt.chainLen === 1) return true;
    return tgtAnon === srcAnon;
  }
  if (tgtAnon === null && srcAnon !== null) {
    // Case 1: dup_anon_vma() from src into tgt; refused for fork children (and, Jan-2026, copied_from).
    if (vmaIsForkChild(vmg.middle)) return false;
    if (profile.copiedFromFix && vmaIsForkChild(vmg.copiedFrom)) return false;
    return true;
  }
  // Case 2: tgt's anon_vma is used as is.
  if (tgtAnon !== null && srcAnon === null) return !vmaIsForkChild(tgt);
  // Case 3: the same anon_vma (or both unfaulted).
  return srcAnon === tgtAnon;
}

/** mm/vma.c:can_vma_merge_before — merge the range into next: pgoff continues into next. */
export function canVmaMergeBefore(profile: Profile, vmg: VmaMergeState): boolean {
  const next = vmg.next!;
  const pglen = (vmg.end - vmg.start) / 4096;
  return (
    isMergeableVma(vmg, next) &&
    isMergeableAnonVma(profile, vmg, next) &&
    next.pgoff === vmg.pgoff + pglen
  );
}

/** mm/vma.c:can_vma_merge_after — merge prev into the range: prev's pgoff continues into it. */
export function canVmaMergeAfter(profile: Profile, vmg: VmaMergeState): boolean {
  const prev = vmg.prev!;
  return (
    isMergeableVma(vmg, prev) &&
    isMergeableAnonVma(profile, vmg, prev) &&
    prev.pgoff + prev.pages === vmg.pgoff
  );
}

/** mm/vma.c:can_vma_merge_left — adjacent prev that can absorb the range. */
export function canVmaMergeLeft(profile: Profile, vmg: VmaMergeState): boolean {
  return vmg.prev !== null && vmg.prev.end === vmg.start && canVmaMergeAfter(profile, vmg);
}

/**
 * mm/vma.c:can_vma_merge_right — adjacent next that can absorb the range; when prev merges
 * too, prev and next must agree on anon_vma (one NULL, or the same).
 */
export function canVmaMergeRight(
  profile: Profile,
  vmg: VmaMergeState,
  mergeLeft: boolean,
): boolean {
  const next = vmg.next;
  if (next === null || vmg.end !== next.start || !canVmaMergeBefore(profile, vmg)) return false;
  if (!mergeLeft) return true;
  const pa = vmg.prev!.anonVma;
  const na = next.anonVma;
  return pa === null || na === null || pa === na;
}

/** dup_anon_vma(): an unfaulted target takes the source's anon_vma (and chain). */
function dupAnonVma(dst: Vma, anonVma: AnonVma | null, chainLen: number): void {
  if (dst.anonVma === null && anonVma !== null) {
    dst.anonVma = anonVma;
    dst.chainLen = chainLen;
  }
}

export interface MergeOutcome {
  vma: Vma;
  kind: 'left' | 'right' | 'both';
}

/**
 * mm/vma.c:vma_merge_new_range — merge a not-yet-mapped range [start, end) into prev and/or
 * next. Returns the expanded VMA, or null (the caller then inserts a new VMA).
 */
export function vmaMergeNewRange(
  tree: VmaTree,
  profile: Profile,
  vmg: VmaMergeState,
): MergeOutcome | null {
  if ((vmg.flags & VM_SPECIAL) !== 0) return null;
  const left = canVmaMergeLeft(profile, vmg);
  const right = canVmaMergeRight(profile, vmg, left);
  if (left && right) {
    const prev = vmg.prev!;
    const next = vmg.next!;
    tree.remove(next);
    tree.setRange(prev, prev.start, next.end);
    dupAnonVma(prev, vmg.anonVma, vmg.chainLen);
    dupAnonVma(prev, next.anonVma, next.chainLen);
    return { vma: prev, kind: 'both' };
  }
  if (left) {
    const prev = vmg.prev!;
    tree.setRange(prev, prev.start, vmg.end);
    dupAnonVma(prev, vmg.anonVma, vmg.chainLen);
    return { vma: prev, kind: 'left' };
  }
  if (right) {
    const next = vmg.next!;
    tree.setRange(next, vmg.start, next.end);
    next.pgoff = vmg.pgoff;
    dupAnonVma(next, vmg.anonVma, vmg.chainLen);
    return { vma: next, kind: 'right' };
  }
  return null;
}

/**
 * mm/vma.c:vma_merge_existing_range — [start, end) lies inside vmg.middle and gets vmg.flags;
 * merge it into prev and/or next when it touches middle's start and/or end. Returns the VMA
 * now covering [start, end), or null when no merge applies (the caller splits instead).
 */
export function vmaMergeExistingRange(
  tree: VmaTree,
  profile: Profile,
  vmg: VmaMergeState,
): MergeOutcome | null {
  const middle = vmg.middle!;
  const leftSide = vmg.start === middle.start;
  const rightSide = vmg.end === middle.end;
  if ((vmg.flags & VM_SPECIAL) !== 0 || (!leftSide && !rightSide)) return null;
  vmg.next = rightSide ? middle.next : null;
  const mergeLeft = leftSide && canVmaMergeLeft(profile, vmg);
  const mergeRight = rightSide && canVmaMergeRight(profile, vmg, mergeLeft);
  if (!mergeLeft && !mergeRight) return null;
  const midAnon = middle.anonVma;
  const midChain = middle.chainLen;
  if (mergeLeft && mergeRight) {
    const prev = vmg.prev!;
    const next = vmg.next!;
    tree.remove(middle);
    tree.remove(next);
    tree.setRange(prev, prev.start, next.end);
    prev.flags = vmg.flags;
    dupAnonVma(prev, midAnon, midChain);
    dupAnonVma(prev, next.anonVma, next.chainLen);
    return { vma: prev, kind: 'both' };
  }
  if (mergeLeft) {
    const prev = vmg.prev!;
    if (rightSide) tree.remove(middle);
    else {
      middle.pgoff += (vmg.end - middle.start) / 4096;
      tree.setRange(middle, vmg.end, middle.end);
    }
    tree.setRange(prev, prev.start, vmg.end);
    prev.flags = vmg.flags;
    dupAnonVma(prev, midAnon, midChain);
    return { vma: prev, kind: 'left' };
  }
  const next = vmg.next!;
  if (leftSide) tree.remove(middle);
  else tree.setRange(middle, middle.start, vmg.start);
  tree.setRange(next, vmg.start, next.end);
  next.pgoff = vmg.pgoff;
  next.flags = vmg.flags;
  dupAnonVma(next, midAnon, midChain);
  return { vma: next, kind: 'right' };
}

/** Whether two adjacent VMAs would merge if the second were modified to its own flags (test helper). */
export function wouldMergeAdjacent(profile: Profile, a: Vma, b: Vma): boolean {
  if (a.end !== b.start) return false;
  const vmg: VmaMergeState = {
    prev: a,
    next: null,
    middle: b,
    start: b.start,
    end: b.end,
    flags: b.flags,
    file: b.file,
    pgoff: b.pgoff,
    anonVma: b.anonVma,
    chainLen: b.chainLen,
    uffd: b.uffd,
    copiedFrom: null,
  };
  return (b.flags & VM_SPECIAL) === 0 && canVmaMergeAfter(profile, vmg);
}
