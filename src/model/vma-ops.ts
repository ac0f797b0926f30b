/**
 * mm/vma.c: the VMA operations every call builds on — __split_vma, vma_modify,
 * do_vmi_munmap, the new-range merge of __mmap_region/copy_vma — and can_modify_mm.
 */
import { vmaMergeExistingRange, vmaMergeNewRange, vmgState, vmgVmaState } from './merge.js';
import { Mm, PAGE, pageAlignU64 } from './mm.js';
import { dropGuards, freePgtables, splitHugeAt, zapRange } from './pgtable.js';
import { FileObj, VM, Vma, maySplit } from './vma.js';
import { Errno } from '../space/errno.js';
import { type Err, type Result, ok } from '../space/result.js';

/**
 * __split_vma: splits at addr; returns [lower, upper]. vma_adjust_trans_huge
 * (split_huge_pmd_if_needed) first splits a huge PMD the new boundary would cut: a THP
 * never straddles two VMAs.
 */
export function splitVma(mm: Mm, vma: Vma, addr: number): [Vma, Vma] {
  splitHugeAt(mm, addr);
  const lower = vma.dup(vma.start, addr, vma.pgoff);
  mm.tree.setRange(vma, addr, vma.end);
  vma.pgoff += (addr - lower.start) / PAGE;
  mm.tree.insert(lower);
  return [lower, vma];
}

/**
 * mm/vma.c:vma_modify — try vma_merge_existing_range for [start, end) of vma with
 * new flags/uffd; else split_vma (ENOMEM at max_map_count) and set them on the middle.
 */
export function vmaModify(
  mm: Mm,
  vma: Vma,
  start: number,
  end: number,
  flags: number,
  uffd: number | null,
): Result<Vma> {
  // prev's adjacency is checked by can_vma_merge_left.
  const vmg = vmgVmaState(vma, start, end, { flags, uffd });
  const merged = vmaMergeExistingRange(mm, vmg, 'vma_modify');
  if (merged !== null) {
    // commit_merge → vma_adjust_trans_huge: a boundary moved to start or end splits the
    // huge PMD it now cuts.
    splitHugeAt(mm, start);
    splitHugeAt(mm, end);
    mm.tracer.note('vma_merge_existing_range', `merged-${merged.kind}`);
    return ok(merged.vma);
  }
  let mid = vma;
  if (mid.start < start) {
    if (mm.mapCount >= mm.o.maxMapCount)
      return mm.tracer.fail('split_vma: map_count', Errno.ENOMEM);
    if (!maySplit(mid, start)) return mm.tracer.fail('split_vma: vm_ops->may_split', Errno.EINVAL);
    mid = splitVma(mm, mid, start)[1];
  }
  if (mid.end > end) {
    if (mm.mapCount >= mm.o.maxMapCount)
      return mm.tracer.fail('split_vma: map_count', Errno.ENOMEM);
    if (!maySplit(mid, end)) return mm.tracer.fail('split_vma: vm_ops->may_split', Errno.EINVAL);
    mid = splitVma(mm, mid, end)[0];
  }
  mid.flags = flags;
  mid.uffd = uffd;
  return ok(mid);
}

/** Any sealed VMA intersecting [start, end)? (mm/mseal.c:check_mm_seal / can_modify_mm) */
export function rangeSealed(mm: Mm, start: number, end: number): boolean {
  for (let v = mm.tree.findVma(start); v !== null && v.start < end; v = v.next) {
    if ((v.flags & VM.SEALED) !== 0) return true;
  }
  return false;
}

/**
 * mm/vma.c:do_vmi_munmap on aligned numbers: sealed → EPERM, a middle split at
 * max_map_count → ENOMEM, may_split refusals → EINVAL; then removes VMAs and pages.
 */
export function doMunmap(mm: Mm, start: number, end: number, step = 'do_vmi_munmap'): Result<0> {
  if (end <= start) return ok(0);
  const first = mm.tree.findVma(start);
  if (first === null || first.start >= end) return ok(0);
  // 6.10–6.11: can_modify_mm over the whole range before anything changes.
  if (mm.profile.mseal === 'range' && rangeSealed(mm, start, end)) {
    return mm.tracer.fail(`${step}: sealed VMA in range`, Errno.EPERM);
  }
  if (first.start < start) {
    if (end < first.end && mm.mapCount >= mm.o.maxMapCount) {
      return mm.tracer.fail(`${step}: split needs map_count < max_map_count`, Errno.ENOMEM);
    }
  }
  for (let v: Vma | null = first; v !== null && v.start < end; v = v.next) {
    if ((v.start < start && !maySplit(v, start)) || (v.end > end && !maySplit(v, end))) {
      return mm.tracer.fail(`${step}: vm_ops->may_split`, Errno.EINVAL);
    }
  }
  let v: Vma | null = first;
  if (mm.profile.mseal === 'vma') {
    // mm/vma.c:vms_gather_munmap_vmas (6.12, Pedro Falcato's mseal rework): can_modify_vma
    // on the first VMA before splitting it, then on each VMA of the walk — a sealed VMA
    // further on fails with EPERM after the first VMA was split, and the split stays.
    if ((first.flags & VM.SEALED) !== 0)
      return mm.tracer.fail(`${step}: can_modify_vma (first VMA)`, Errno.EPERM);
    if (rangeSealed(mm, start, end)) {
      if (first.start < start) splitVma(mm, first, start);
      return mm.tracer.fail(`${step}: can_modify_vma (split kept)`, Errno.EPERM);
    }
  }
  if (v.start < start) v = splitVma(mm, v, start)[1];
  while (v !== null && v.start < end) {
    const nx: Vma | null = v.next;
    if (v.end > end) v = splitVma(mm, v, end)[0];
    if ((v.flags & VM.LOCKED) !== 0) mm.lockedVm -= v.pages;
    // hugetlb_vm_op_close → hugetlb_acct_memory: the unmapped part's reservation returns.
    if ((v.flags & (VM.HUGETLB | VM.NORESERVE)) === VM.HUGETLB) mm.hugetlbFree += v.pages / 512;
    mm.tree.remove(v);
    v = nx;
  }
  zapRange(mm, start, end);
  dropGuards(mm, start, end);
  freePgtables(mm, start, end);
  return ok(0);
}

/** do_vmi_munmap with its own argument checks (used by munmap and mremap shrink). */
export function munmapChecked(mm: Mm, addr: bigint, length: bigint, step: string): Result<0> {
  const tr = mm.tracer;
  let e;
  if ((e = tr.check(`${step}: offset_in_page(start)`, (addr & 4095n) !== 0n, Errno.EINVAL)))
    return e;
  if ((e = tr.check(`${step}: start > TASK_SIZE`, addr > mm.o.taskSize, Errno.EINVAL))) return e;
  const len = pageAlignU64(length);
  if ((e = tr.check(`${step}: len > TASK_SIZE - start`, len > mm.o.taskSize - addr, Errno.EINVAL)))
    return e;
  if ((e = tr.check(`${step}: len == 0`, len === 0n, Errno.EINVAL))) return e;
  return doMunmap(mm, Number(addr), Number(addr + len), step);
}

export function sysMunmap(mm: Mm, addr: bigint, length: bigint): Result<0> {
  const tr = mm.tracer;
  tr.begin('munmap');
  return munmapChecked(mm, addr, length, 'do_vmi_munmap');
}

/** vma_merge_new_range for a fresh range, else a new VMA. */
export function insertNewRange(
  mm: Mm,
  start: number,
  end: number,
  flags: number,
  file: FileObj | null,
  pgoff: number,
  step: string,
): Vma {
  const prev = mm.tree.floor(start - 1);
  const next = prev === null ? mm.tree.head : prev.next;
  const vmg = vmgState({ prev, next, start, end, flags, file, pgoff });
  // vma_merge_new_range refuses VM_SPECIAL itself (and traces why); a shared anonymous
  // mapping gets a shmem file of its own (shmem_zero_setup), which no neighbour's vm_file
  // matches, so it is not tried.
  const m = file?.kind !== 'shmem' ? vmaMergeNewRange(mm, vmg, step) : null;
  if (m !== null) {
    mm.tracer.note(`${step}: vma_merge_new_range`, `merged-${m.kind}`);
    return m.vma;
  }
  const v = new Vma(start, end, flags, file, pgoff);
  mm.tree.insert(v);
  mm.tracer.note(`${step}: new VMA`, 'ok');
  return v;
}

/** Walks [start, end) for flag-changing calls: fn per VMA piece; holes recorded. */
export function applyFlags(
  mm: Mm,
  start: number,
  end: number,
  step: string,
  change: (v: Vma) => { flags: number; uffd: number | null } | Err | null,
  /** Errno for a hole in the range, or null when holes are allowed. */
  holeErrno: number | null,
  stopAtHole: boolean,
): Result<0> {
  let vma = mm.tree.findVma(start);
  let tmp = start;
  let hole = false;
  while (vma !== null && vma.start < end) {
    if (vma.start > tmp) {
      hole = true;
      if (stopAtHole && holeErrno !== null)
        return mm.tracer.fail(`${step}: hole in range`, holeErrno);
    }
    const s = Math.max(vma.start, start);
    const e = Math.min(vma.end, end);
    const c = change(vma);
    // madvise_walk_vmas() stops at the first VMA whose visit fails; earlier ones stay done.
    if (c !== null && 'ok' in c) return c;
    let cur = vma;
    if (c !== null && (c.flags !== vma.flags || c.uffd !== vma.uffd)) {
      const r = vmaModify(mm, vma, s, e, c.flags, c.uffd);
      if (!r.ok) return r;
      cur = r.value;
    }
    // madvise_walk_vmas() resumes at prev->vm_end and apply_vma_lock_flags() at
    // vma_iter_end(): past a neighbour the piece merged with, never inside it.
    tmp = Math.max(e, cur.end);
    vma = cur.next;
  }
  if ((hole || tmp < end) && holeErrno !== null)
    return mm.tracer.fail(`${step}: unmapped range`, holeErrno);
  return ok(0);
}
