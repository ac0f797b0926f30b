/**
 * mm/mremap.c: mremap_to and move_vma — prep_move_vma, copy_vma (mm/vma.c; destination
 * merge, self-merge), move_page_tables, mremap_userfaultfd_prep, then unmap_source_vma or
 * dontunmap_complete.
 */
import { MREMAP } from '../../space/constants.js';
import { Errno } from '../../space/errno.js';
import { ok, type Err, type Result } from '../../space/result.js';
import { populate } from '../fault.js';
import { vmaAttrs, vmaMergeNewRange, vmgState } from '../merge.js';
import { getUnmappedArea, mayExpandVm } from '../mmap.js';
import { PAGE, type Mm, type Pte } from '../mm.js';
import { PMD, planMovePageTables, type Extent } from '../page-tables.js';
import { dropGuards, freePgtables, zapRange } from '../pgtable.js';
import { mremapUserfaultfdPrep, vmaHasUffdWithoutEventRemap } from '../userfaultfd.js';
import { VM, VM_LOCKED_MASK, type Vma } from '../vma.js';
import { doMunmap, splitVma } from '../vma-ops.js';
import { relocateAnonMerge, relocateNewVma, shouldRelocateAnon } from './relocate-anon.js';
import type { VmaRemapStruct } from './vrm.js';

/**
 * mm/mremap.c:mremap_to, after its argument checks: unmap the destination (FIXED), cut the
 * source to new_len (a shrinking move), look the VMA up again; checkVma then runs the
 * version's per-VMA checks (vma_to_resize/remap_is_valid, or none in 6.17+ where
 * check_prep_vma ran before).
 */
export function mremapTo(
  mm: Mm,
  vrm: VmaRemapStruct,
  shrinkStep: string,
  checkVma: (vma: Vma | null) => Err | null,
): Result<bigint> {
  const tr = mm.tracer;
  if ((vrm.flags & MREMAP.FIXED) !== 0n) {
    const r = doMunmap(mm, vrm.newAddr, vrm.newAddr + vrm.newLen, 'mremap_to: do_munmap(new_addr)');
    if (!r.ok) return r;
    tr.note('mremap_to: destination unmapped', 'ok');
  }
  if (vrm.oldLen > vrm.newLen) {
    const r = doMunmap(mm, vrm.addr + vrm.newLen, vrm.addr + vrm.oldLen, shrinkStep);
    if (!r.ok) return r;
    vrm.oldLen = vrm.newLen;
  }
  vrm.vma = mm.tree.lookup(vrm.addr);
  const e = checkVma(vrm.vma);
  if (e !== null) return e;
  return mremapToTail(mm, vrm);
}

/** The end of mremap_to: DONTUNMAP charge, get_unmapped_area, move_vma. */
function mremapToTail(mm: Mm, vrm: VmaRemapStruct): Result<bigint> {
  const tr = mm.tracer;
  let e;
  if ((vrm.flags & MREMAP.DONTUNMAP) !== 0n) {
    if (
      (e = tr.check(
        'mremap_to: DONTUNMAP may_expand_vm(old_len)',
        !mayExpandVm(mm, vrm.oldLen / PAGE),
        Errno.ENOMEM,
      ))
    )
      return e;
  }
  if ((vrm.flags & MREMAP.FIXED) === 0n) {
    const r = placeMove(mm, vrm, BigInt(vrm.newAddr));
    if (!r.ok) return r;
    vrm.newAddr = r.value;
  }
  const m = moveVma(mm, vrm);
  return m.ok ? ok(BigInt(m.value)) : m;
}

/** vrm_set_new_addr without FIXED: get_unmapped_area with a hint (DONTUNMAP) or none. */
export function placeMove(mm: Mm, vrm: VmaRemapStruct, hint: bigint): Result<number> {
  const vma = vrm.vma!;
  const thp = mm.profile.thpAlignUnmapped && vma.isAnonymous && vrm.newLen % PMD === 0;
  return getUnmappedArea(mm, vrm.newLen, hint, thp ? PMD : PAGE);
}

/**
 * mm/mremap.c:prep_move_vma — map_count headroom and may_split; with the 6.1.y/6.12.y stable
 * fix, an mlock()ed DONTUNMAP source is split ahead of time. Returns the source VMA.
 */
function prepMoveVma(mm: Mm, vrm: VmaRemapStruct): Vma | Err {
  const tr = mm.tracer;
  const { addr, oldLen } = vrm;
  const vma = mm.tree.lookup(addr)!;
  const e = tr.check(
    'prep_move_vma: map_count >= max_map_count - 3',
    mm.mapCount >= mm.o.maxMapCount - 3,
    Errno.ENOMEM,
  );
  if (e !== null) return e;
  if (vma.special?.refuseSplit === true && (addr !== vma.start || addr + oldLen !== vma.end)) {
    return tr.fail('prep_move_vma: vm_ops->may_split', Errno.EINVAL);
  }
  return vma;
}

/**
 * mm/mremap.c:move_vma of the 6.1.y/6.12.y stable trees: "To account mlock()'d pages
 * correctly in the MREMAP_DONTUNMAP case perform any split ahead of time for an mlock()'d
 * VMA", so only the moved range of the source loses VM_LOCKED.
 */
function splitLockedDontunmapSource(mm: Mm, vrm: VmaRemapStruct, vma: Vma): Vma {
  const { addr, oldLen } = vrm;
  if (vma.start < addr) vma = splitVma(mm, vma, addr)[1];
  if (vma.end > addr + oldLen) vma = splitVma(mm, vma, addr + oldLen)[0];
  mm.tracer.note('move_vma: split the mlock()ed source ahead of time (stable backport)', 'ok');
  return vma;
}

/**
 * mm/vma.c:copy_vma — the destination VMA: vma_merge_new_range with the neighbours at
 * new_addr (an unfaulted source may merge into itself), else a new VMA (relocated under the
 * RFC). Unfaulted anonymous VMAs take new_addr as pgoff.
 */
function copyVma(
  mm: Mm,
  vrm: VmaRemapStruct,
  vma: Vma,
  reloc: 'relocate' | 'normal',
): { vma: Vma; newVma: Vma; relocated: boolean } {
  const tr = mm.tracer;
  const { addr, newLen, newAddr } = vrm;
  let pgoff = vma.pgoff + (addr - vma.start) / PAGE;
  const unfaulted = vma.isAnonymous && vma.anonVma === null;
  if (unfaulted) pgoff = newAddr / PAGE;
  const prev = mm.tree.floor(newAddr - 1);
  const vmg = vmgState({
    prev,
    next: prev === null ? mm.tree.head : prev.next,
    start: newAddr,
    end: newAddr + newLen,
    pgoff,
    ...vmaAttrs(vma),
    copiedFrom: vma,
  });
  const srcStart = vma.start;
  const keepApart =
    mm.profile.dontunmapKeepsSourceApart &&
    unfaulted &&
    (vrm.flags & MREMAP.DONTUNMAP) !== 0n &&
    (newAddr === vma.end || vma.start === newAddr + newLen);
  if (keepApart) tr.note('copy_vma: DONTUNMAP next to an unfaulted source: no merge', 'skip');
  const merged = keepApart ? null : vmaMergeNewRange(mm, vmg, 'copy_vma');
  if (merged !== null) {
    const newVma = merged.vma;
    tr.note('copy_vma: vma_merge_new_range', `merged-${merged.kind}`);
    if (srcStart >= newVma.start && srcStart < newVma.end) {
      tr.note('copy_vma: source merged into destination (unfaulted self-merge)', 'ok');
      vma = newVma;
    }
    if (reloc === 'relocate')
      tr.note('copy_vma: ordinary merge succeeded, relocation cancelled', 'ok');
    return { vma, newVma, relocated: false };
  }
  const newVma = vma.dup(newAddr, newAddr + newLen, pgoff);
  const relocated = reloc === 'relocate';
  if (relocated) relocateNewVma(newVma);
  mm.tree.insert(newVma);
  tr.note('copy_vma: new VMA', relocated ? 'relocated' : 'ok');
  return { vma, newVma, relocated };
}

/**
 * mm/mremap.c:move_page_tables — the plan (page-tables.ts), then the pages and guard markers
 * move with their frames.
 */
function movePageTables(mm: Mm, vrm: VmaRemapStruct, vma: Vma, newVma: Vma): void {
  const tr = mm.tracer;
  const { addr, oldLen, newAddr } = vrm;
  const oldVma: Extent = { start: vma.start, end: vma.end };
  const nv: Extent = { start: newVma.start, end: newVma.end };
  const plan = planMovePageTables({
    old: addr,
    new: newAddr,
    len: oldLen,
    oldVma,
    newVma: nv,
    anyVmaIn: (s, en, except) => {
      for (let v = mm.tree.findVma(s); v !== null && v.start < en; v = v.next) {
        if (v.start !== except.start || v.end !== except.end) return true;
      }
      return false;
    },
    state: mm.pt,
    realign: mm.profile.realign,
    haveMovePmd: mm.o.haveMovePmd,
    haveMovePud: mm.o.haveMovePud,
    uffdBlocksTableMove: mm.profile.uffdBlocksTableMove && vmaHasUffdWithoutEventRemap(mm, vma),
  });
  tr.plan(plan);
  tr.note(
    'move_page_tables',
    'ok',
    `${plan.counts.pmd} PMD, ${plan.counts.pte} PTE, ${plan.counts['huge-pmd']} huge-PMD, ${plan.counts.pud} PUD moves${plan.realigned ? ', realigned' : ''}`,
  );
  const moved: [number, Pte][] = [];
  const shift = (newAddr - addr) / PAGE;
  mm.forEachPte(addr, addr + oldLen, (pn, pte) => moved.push([pn, pte]));
  for (const [pn] of moved) mm.ptes.delete(pn);
  for (const [pn, pte] of moved) mm.ptes.set(pn + shift, pte);
  // move_ptes moves guard markers with the other entries.
  const guards = [...mm.guards].filter((pn) => pn >= addr / PAGE && pn < (addr + oldLen) / PAGE);
  for (const pn of guards) mm.guards.delete(pn);
  for (const pn of guards) mm.guards.add(pn + shift);
}

/** mm/mremap.c:dontunmap_complete — the source stays mapped, unlocked, without its anon_vma. */
function dontunmapComplete(mm: Mm, vrm: VmaRemapStruct, newVma: Vma): void {
  const tr = mm.tracer;
  const { addr, oldLen } = vrm;
  const src = mm.tree.lookup(addr);
  if (src !== null) {
    src.flags &= ~VM_LOCKED_MASK;
    if (mm.profile.dontunmapClearsAccount) src.flags &= ~VM.ACCOUNT;
    if (src.start === addr && src.end === addr + oldLen && src !== newVma) {
      src.anonVma = null;
      src.chainLen = 0;
      tr.note('dontunmap_complete: unlink_anon_vmas (whole VMA)', 'ok');
    }
  }
  tr.note('dontunmap_complete', 'ok');
}

/**
 * mm/mremap.c:move_vma — prep_move_vma, copy_vma, move_page_tables, userfaultfd reset,
 * mlock accounting, then unmap_source_vma or dontunmap_complete.
 */
export function moveVma(mm: Mm, vrm: VmaRemapStruct): Result<number> {
  const { addr, oldLen, newLen, newAddr } = vrm;
  const dontunmap = (vrm.flags & MREMAP.DONTUNMAP) !== 0n;
  const prep = prepMoveVma(mm, vrm);
  if ('ok' in prep) return prep;
  let vma = prep;
  const reloc = shouldRelocateAnon(mm, vrm, vma);
  if (typeof reloc === 'object') return reloc;
  if (dontunmap && (vma.flags & VM.LOCKED) !== 0 && mm.profile.dontunmapSplitsLockedSource)
    vma = splitLockedDontunmapSource(mm, vrm, vma);
  const copy = copyVma(mm, vrm, vma, reloc);
  vma = copy.vma;
  const newVma = copy.newVma;
  movePageTables(mm, vrm, vma, newVma);
  mremapUserfaultfdPrep(mm, newVma);
  const locked = (vma.flags & VM.LOCKED) !== 0;
  if (locked && (!dontunmap || mm.profile.dontunmapLockedVmGrows)) mm.lockedVm += newLen / PAGE;
  if (copy.relocated) relocateAnonMerge(mm, newVma);
  if (!dontunmap) {
    unmapSourceVma(mm, addr, addr + oldLen);
    mm.tracer.note('unmap_source_vma', 'ok');
  } else dontunmapComplete(mm, vrm, newVma);
  if (locked && newLen > oldLen) populate(mm, newAddr + oldLen, newAddr + newLen);
  return ok(newAddr);
}

/** unmap_source_vma: munmap semantics without the syscall checks (already done). */
function unmapSourceVma(mm: Mm, start: number, end: number): void {
  // mm/vma.c:do_vmi_munmap refuses end == start before splitting anything, so a shared
  // old_len == 0 "duplicate" move leaves its source whole.
  if (end <= start) return;
  let v = mm.tree.findVma(start);
  if (v === null || v.start >= end) return;
  if (v.start < start) v = splitVma(mm, v, start)[1];
  while (v !== null && v.start < end) {
    const nx: Vma | null = v.next;
    if (v.end > end) v = splitVma(mm, v, end)[0];
    if ((v.flags & VM.LOCKED) !== 0) mm.lockedVm -= v.pages;
    mm.tree.remove(v);
    v = nx;
  }
  zapRange(mm, start, end);
  dropGuards(mm, start, end);
  freePgtables(mm, start, end);
}
