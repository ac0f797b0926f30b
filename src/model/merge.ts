/**
 * VMA merging: mm/vma.c is_mergeable_vma, is_mergeable_anon_vma, can_vma_merge_{before,after},
 * can_vma_merge_{left,right}, vma_merge_new_range and vma_merge_existing_range. One
 * VmaMergeState (≙ struct vma_merge_struct, made by vmgState/vmgVmaState ≙ VMG_STATE /
 * VMG_VMA_STATE) carries the proposed range through the helpers. Every predicate returns a
 * Verdict that names the kernel function and the rule, and each neighbour pair a merge looked
 * at is traced (OpTrace.merges) with its verdict, so `explain` can say why two VMAs did not
 * merge.
 */
import type { Mm } from './mm.js';
import type { Profile } from './profiles.js';
import { VM, VM_SPECIAL, type AnonVma, type FileObj, type Vma } from './vma.js';

/** Flags that never block a merge: VM_SOFTDIRTY up to 6.18 (VMA_IGNORE_MERGE_FLAGS). */
export const VM_IGNORE_MERGE = VM.SOFTDIRTY;

/** A predicate's answer: whether it holds, and why — kernel function first, then the rule. */
export interface Verdict {
  ok: boolean;
  why: string;
}

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

/** VMG_STATE: a proposed range with nothing attached unless given (no anon_vma, no uffd ctx). */
export function vmgState(
  init: Pick<VmaMergeState, 'prev' | 'start' | 'end' | 'flags' | 'file' | 'pgoff'> &
    Partial<VmaMergeState>,
): VmaMergeState {
  return {
    next: null,
    middle: null,
    anonVma: null,
    chainLen: 0,
    uffd: null,
    copiedFrom: null,
    ...init,
  };
}

/** What a range copied from (or inside) vma carries: flags, file, anon_vma chain, uffd ctx. */
export function vmaAttrs(
  vma: Vma,
): Pick<VmaMergeState, 'flags' | 'file' | 'anonVma' | 'chainLen' | 'uffd'> {
  return {
    flags: vma.flags,
    file: vma.file,
    anonVma: vma.anonVma,
    chainLen: vma.chainLen,
    uffd: vma.uffd,
  };
}

/** VMG_VMA_STATE: [start, end) of an existing vma (the middle), its prev, its attributes. */
export function vmgVmaState(
  vma: Vma,
  start: number,
  end: number,
  over: Partial<VmaMergeState> = {},
): VmaMergeState {
  return vmgState({
    prev: vma.prev,
    middle: vma,
    start,
    end,
    pgoff: vma.pgoff + (start - vma.start) / 4096,
    ...vmaAttrs(vma),
    ...over,
  });
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** VM_* names of the bits in mask (VM_SEALED for the model's borrowed bit). */
export function vmFlagNames(mask: number): string {
  return Object.entries(VM)
    .filter(([, bit]) => (mask & bit) !== 0)
    .map(([name]) => `VM_${name}`)
    .join('|');
}

/** mm/vma.c:vma_is_fork_child (vma_had_uncowed_parents before 6.18): anon_vma chain not singular. */
export function vmaIsForkChild(vma: Vma | null): boolean {
  return vma !== null && vma.anonVma !== null && vma.chainLen > 1;
}

/** mm/vma.c:is_mergeable_vma — flags (minus ignored), same file, same uffd ctx. */
export function isMergeableVma(vmg: VmaMergeState, tgt: Vma): Verdict {
  const diff = (tgt.flags ^ vmg.flags) & ~VM_IGNORE_MERGE;
  if (diff !== 0)
    return { ok: false, why: `is_mergeable_vma: vm_flags differ (${vmFlagNames(diff)})` };
  if (tgt.file !== vmg.file) return { ok: false, why: 'is_mergeable_vma: vm_file differs' };
  if (tgt.uffd !== vmg.uffd)
    return { ok: false, why: 'is_mergeable_vma: vm_userfaultfd_ctx differs' };
  return { ok: true, why: 'is_mergeable_vma: same vm_flags, vm_file and userfaultfd ctx' };
}

/** An anon_vma side as the rules see it. */
function anonSide(anonVma: AnonVma | null, chainLen: number): string {
  if (anonVma === null) return 'unfaulted';
  return chainLen > 1 ? `faulted, fork child (chain of ${chainLen})` : 'faulted';
}

/**
 * mm/vma.c:is_mergeable_anon_vma — 6.16 879bca0a2c4f cases 1–3, or the pre-6.16
 * chain-singular rule. "source" is the range being merged, "target" the neighbour.
 */
export function isMergeableAnonVma(profile: Profile, vmg: VmaMergeState, tgt: Vma): Verdict {
  const tgtAnon = tgt.anonVma;
  const srcAnon = vmg.anonVma;
  const sides = `source ${anonSide(srcAnon, vmg.chainLen)}, target ${anonSide(tgtAnon, tgt.chainLen)}`;
  const say = (ok: boolean, rule: string): Verdict => ({
    ok,
    why: `is_mergeable_anon_vma: ${sides}, ${rule}`,
  });
  if (srcAnon !== null && srcAnon === tgtAnon) return say(true, 'same anon_vma');
  if (srcAnon === null && tgtAnon === null) return say(true, 'neither has an anon_vma');
  if (profile.anonMerge === 'pre-6.16') {
    // ≤6.15 is_mergeable_anon_vma(anon1, anon2, tgt): a NULL side merges only if tgt's chain is singular.
    const rule =
      'rule before 6.16 (879bca0a2c4f): one NULL side merges only with a singular target chain';
    if ((tgtAnon === null || srcAnon === null) && tgt.chainLen === 1) return say(true, rule);
    return say(false, tgtAnon === null || srcAnon === null ? rule : 'different anon_vmas');
  }
  if (tgtAnon === null && srcAnon !== null) {
    // Case 1: dup_anon_vma() from src into tgt; refused for fork children (and, Jan-2026, copied_from).
    if (vmaIsForkChild(vmg.middle))
      return say(false, 'case 1 (6.16, 879bca0a2c4f) refused: the modified VMA is a fork child');
    if (profile.copiedFromFix && vmaIsForkChild(vmg.copiedFrom))
      return say(
        false,
        'case 1 refused: copy_vma source is a fork child (vmg->copied_from, Jan 2026)',
      );
    return say(true, 'case 1 (6.16, 879bca0a2c4f): the target takes the source anon_vma');
  }
  // Case 2: tgt's anon_vma is used as is.
  if (tgtAnon !== null && srcAnon === null) {
    if (vmaIsForkChild(tgt))
      return say(false, 'case 2 (6.16, 879bca0a2c4f) refused: the target is a fork child');
    return say(true, "case 2 (6.16, 879bca0a2c4f): the source takes the target's anon_vma");
  }
  // Case 3: the same anon_vma (or both unfaulted) — handled above.
  return say(false, 'different anon_vmas');
}

/** The first failing verdict, else the anon_vma one (it says which rule let the pair merge). */
function firstFailure(checks: readonly (() => Verdict)[]): Verdict {
  let last: Verdict = { ok: true, why: '' };
  for (const check of checks) {
    const v = check();
    if (!v.ok) return v;
    if (v.why.startsWith('is_mergeable_anon_vma')) last = v;
  }
  return last;
}

/** mm/vma.c:can_vma_merge_before — merge the range into next: pgoff continues into next. */
export function canVmaMergeBefore(profile: Profile, vmg: VmaMergeState): Verdict {
  const next = vmg.next!;
  const pglen = (vmg.end - vmg.start) / 4096;
  return firstFailure([
    () => isMergeableVma(vmg, next),
    () => isMergeableAnonVma(profile, vmg, next),
    () =>
      next.pgoff === vmg.pgoff + pglen
        ? { ok: true, why: 'can_vma_merge_before: pgoff continues' }
        : {
            ok: false,
            why: `can_vma_merge_before: pgoff ${hex(vmg.pgoff)} + ${pglen} != ${hex(next.pgoff)}`,
          },
  ]);
}

/** mm/vma.c:can_vma_merge_after — merge prev into the range: prev's pgoff continues into it. */
export function canVmaMergeAfter(profile: Profile, vmg: VmaMergeState): Verdict {
  const prev = vmg.prev!;
  return firstFailure([
    () => isMergeableVma(vmg, prev),
    () => isMergeableAnonVma(profile, vmg, prev),
    () =>
      prev.pgoff + prev.pages === vmg.pgoff
        ? { ok: true, why: 'can_vma_merge_after: pgoff continues' }
        : {
            ok: false,
            why: `can_vma_merge_after: pgoff ${hex(prev.pgoff)} + ${prev.pages} != ${hex(vmg.pgoff)}`,
          },
  ]);
}

/** vmg.prev ends where the range starts (else they are no neighbours). */
const prevAdjacent = (vmg: VmaMergeState): boolean =>
  vmg.prev !== null && vmg.prev.end === vmg.start;
const nextAdjacent = (vmg: VmaMergeState): boolean =>
  vmg.next !== null && vmg.end === vmg.next.start;

/** mm/vma.c:can_vma_merge_left — adjacent prev that can absorb the range. */
export function canVmaMergeLeft(profile: Profile, vmg: VmaMergeState): Verdict {
  if (!prevAdjacent(vmg)) return { ok: false, why: 'can_vma_merge_left: no adjacent prev' };
  return canVmaMergeAfter(profile, vmg);
}

/**
 * mm/vma.c:can_vma_merge_right — adjacent next that can absorb the range; when prev merges
 * too, prev and next must agree on anon_vma (one NULL, or the same).
 */
export function canVmaMergeRight(
  profile: Profile,
  vmg: VmaMergeState,
  mergeLeft: boolean,
): Verdict {
  if (!nextAdjacent(vmg)) return { ok: false, why: 'can_vma_merge_right: no adjacent next' };
  const before = canVmaMergeBefore(profile, vmg);
  if (!before.ok || !mergeLeft) return before;
  const pa = vmg.prev!.anonVma;
  const na = vmg.next!.anonVma;
  if (pa === null || na === null || pa === na) return before;
  return {
    ok: false,
    why: 'can_vma_merge_right: prev and next have different anon_vmas (merging all three needs one)',
  };
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

/** Traces the pairs (prev, range) and (range, next) that exist, with their verdicts. */
function tracePairs(
  mm: Mm,
  caller: string,
  vmg: VmaMergeState,
  left: Verdict | null,
  right: Verdict | null,
): void {
  const range = { start: vmg.start, end: vmg.end };
  if (left !== null && prevAdjacent(vmg)) {
    const p = vmg.prev!;
    mm.tracer.merge({
      caller,
      lower: { start: p.start, end: p.end },
      upper: range,
      ...verdict(left),
    });
  }
  if (right !== null && nextAdjacent(vmg)) {
    const n = vmg.next!;
    mm.tracer.merge({
      caller,
      lower: range,
      upper: { start: n.start, end: n.end },
      ...verdict(right),
    });
  }
}

const verdict = (v: Verdict): { merged: boolean; why: string } => ({ merged: v.ok, why: v.why });

const SPECIAL: Verdict = {
  ok: false,
  why: `vma_merge: VM_SPECIAL (${vmFlagNames(VM_SPECIAL)}) never merges`,
};

/**
 * mm/vma.c:vma_merge_new_range — merge a not-yet-mapped range [start, end) into prev and/or
 * next. Returns the expanded VMA, or null (the caller then inserts a new VMA).
 */
export function vmaMergeNewRange(mm: Mm, vmg: VmaMergeState, caller: string): MergeOutcome | null {
  const tree = mm.tree;
  if ((vmg.flags & VM_SPECIAL) !== 0) {
    tracePairs(mm, caller, vmg, SPECIAL, SPECIAL);
    return null;
  }
  const leftV = canVmaMergeLeft(mm.profile, vmg);
  const rightV = canVmaMergeRight(mm.profile, vmg, leftV.ok);
  tracePairs(mm, caller, vmg, leftV, rightV);
  const left = leftV.ok;
  const right = rightV.ok;
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
  mm: Mm,
  vmg: VmaMergeState,
  caller: string,
): MergeOutcome | null {
  const tree = mm.tree;
  const middle = vmg.middle!;
  const leftSide = vmg.start === middle.start;
  const rightSide = vmg.end === middle.end;
  if (!leftSide && !rightSide) return null;
  vmg.next = rightSide ? middle.next : null;
  if ((vmg.flags & VM_SPECIAL) !== 0) {
    tracePairs(mm, caller, vmg, leftSide ? SPECIAL : null, SPECIAL);
    return null;
  }
  const leftV = leftSide ? canVmaMergeLeft(mm.profile, vmg) : null;
  const mergeLeft = leftV?.ok === true;
  const rightV = rightSide ? canVmaMergeRight(mm.profile, vmg, mergeLeft) : null;
  tracePairs(mm, caller, vmg, leftV, rightV);
  const mergeRight = rightV?.ok === true;
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
  const vmg = vmgVmaState(b, b.start, b.end, { prev: a });
  return (b.flags & VM_SPECIAL) === 0 && canVmaMergeAfter(profile, vmg).ok;
}
