/**
 * mremap(): parameter validation in each profile's order and the outcomes (no-op, shrink,
 * expand in place, move, FIXED move, DONTUNMAP, multi-VMA move, RELOCATE_ANON). One
 * VmaRemapStruct (≙ struct vma_remap_struct) carries the operation.
 */
import type { RemapArgs } from '../space/address-space.js';
import { MREMAP } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { ok, type Err, type Result } from '../space/result.js';
import type { ModelSpace } from './address-space.js';
import { PAGE, pageAlignU64 } from './address-space.js';
import {
  vmaMergeExistingRange,
  vmaMergeNewRange,
  vmaIsForkChild,
  type VmaMergeState,
} from './merge.js';
import { PMD, planMovePageTables, type Extent } from './page-tables.js';
import { AnonVma, VM, VM_LOCKED_MASK, VM_SPECIAL, type Vma } from './vma.js';

const U64 = (1n << 64n) - 1n;

type RemapType = 'NO_RESIZE' | 'SHRINK' | 'EXPAND';

/** struct vma_remap_struct. */
export interface VmaRemapStruct {
  addr: number;
  oldLen: number;
  newLen: number;
  newAddr: number;
  flags: bigint;
  vma: Vma | null;
  delta: number;
  type: RemapType;
  /** RELOCATE_ANON / MUST_RELOCATE_ANON requested (profile bits). */
  relocate: boolean;
  mustRelocate: boolean;
}

const impliesNewAddr = (flags: bigint): boolean =>
  (flags & (MREMAP.FIXED | MREMAP.DONTUNMAP)) !== 0n;

/** The bits check_mremap_params() lets through; any other bit of the 64 is EINVAL. */
function allowedFlags(mm: ModelSpace): bigint {
  const r = mm.profile.relocateAnon;
  return MREMAP.FIXED | MREMAP.MAYMOVE | MREMAP.DONTUNMAP | (r === null ? 0n : r.relocate | r.must);
}

/** Ranges overlap, in u64 arithmetic as the kernel computes it. */
function overlaps(addr: bigint, oldLen: bigint, newAddr: bigint, newLen: bigint): boolean {
  return ((addr + oldLen) & U64) > newAddr && ((newAddr + newLen) & U64) > addr;
}

export function doMremap(mm: ModelSpace, a: RemapArgs): Result<bigint> {
  switch (mm.profile.validation) {
    case 'classic':
      return mremapClassic(mm, a);
    case 'vrm':
      return mremapVrm(mm, a);
    case 'vrm-multi':
      return mremapMulti(mm, a);
  }
}

function newVrm(mm: ModelSpace, a: RemapArgs, oldLen: bigint, newLen: bigint): VmaRemapStruct {
  const r = mm.profile.relocateAnon;
  const ol = Number(oldLen);
  const nl = Number(newLen);
  return {
    addr: Number(a.addr),
    oldLen: ol,
    newLen: nl,
    newAddr: Number(a.newAddr & U64),
    flags: a.flags,
    vma: null,
    delta: Math.abs(ol - nl),
    type: ol === nl ? 'NO_RESIZE' : ol > nl ? 'SHRINK' : 'EXPAND',
    relocate: r !== null && (a.flags & (r.relocate | r.must)) !== 0n,
    mustRelocate: r !== null && (a.flags & r.must) !== 0n,
  };
}

/** RELOCATE_ANON RFC: either bit without MAYMOVE → EINVAL, right after the new_len check. */
function checkRelocateFlags(mm: ModelSpace, flags: bigint): Err | null {
  const r = mm.profile.relocateAnon;
  if (r === null) return null;
  return mm.tracer.check(
    'check_mremap_params: RELOCATE_ANON without MAYMOVE',
    (flags & (r.relocate | r.must)) !== 0n && (flags & MREMAP.MAYMOVE) === 0n,
    Errno.EINVAL,
  );
}

/**
 * mm/mremap.c:align_hugetlb (6.15+; the same checks sat in the ≤6.14 syscall body since
 * 2.6): round both lengths up to the huge page size, then addr and the user's raw new_addr
 * (checked even without FIXED) must be huge aligned, and a hugetlb mapping cannot grow.
 */
function alignHugetlb(mm: ModelSpace, vrm: VmaRemapStruct, rawNewAddr: bigint): Err | null {
  const v = vrm.vma!;
  if ((v.flags & VM.HUGETLB) === 0) return null;
  const tr = mm.tracer;
  const huge = v.special?.splitAlign ?? PMD;
  const up = (x: number) => Math.ceil(x / huge) * huge;
  vrm.oldLen = up(vrm.oldLen);
  vrm.newLen = up(vrm.newLen);
  vrm.delta = Math.abs(vrm.oldLen - vrm.newLen);
  vrm.type =
    vrm.oldLen === vrm.newLen ? 'NO_RESIZE' : vrm.oldLen > vrm.newLen ? 'SHRINK' : 'EXPAND';
  let e;
  if ((e = tr.check('align_hugetlb: addr & ~huge_page_mask', vrm.addr % huge !== 0, Errno.EINVAL)))
    return e;
  if (
    (e = tr.check(
      'align_hugetlb: new_addr & ~huge_page_mask',
      rawNewAddr % BigInt(huge) !== 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  return tr.check('align_hugetlb: new_len > old_len', vrm.newLen > vrm.oldLen, Errno.EINVAL);
}

// ───────────────────────── ≤6.14: SYSCALL_DEFINE5(mremap) ─────────────────────────

function mremapClassic(mm: ModelSpace, a: RemapArgs): Result<bigint> {
  const tr = mm.tracer;
  const flags = a.flags;
  let e;
  if (
    (e = tr.check(
      'mremap: flags & ~(FIXED|MAYMOVE|DONTUNMAP)',
      (flags & ~allowedFlags(mm)) !== 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  if (
    (e = tr.check(
      'mremap: FIXED && !MAYMOVE',
      (flags & MREMAP.FIXED) !== 0n && (flags & MREMAP.MAYMOVE) === 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  if (
    (e = tr.check(
      'mremap: DONTUNMAP && (!MAYMOVE || old_len != new_len) (unaligned)',
      (flags & MREMAP.DONTUNMAP) !== 0n &&
        ((flags & MREMAP.MAYMOVE) === 0n || a.oldLen !== a.newLen),
      Errno.EINVAL,
    ))
  )
    return e;
  if ((e = tr.check('mremap: offset_in_page(addr)', (a.addr & 4095n) !== 0n, Errno.EINVAL)))
    return e;
  let oldLenB = pageAlignU64(a.oldLen);
  let newLenB = pageAlignU64(a.newLen);
  if ((e = tr.check('mremap: !new_len', newLenB === 0n, Errno.EINVAL))) return e;
  const vrm = newVrm(mm, a, oldLenB, newLenB);
  const vma = a.addr > mm.o.taskSize ? null : mm.tree.lookup(vrm.addr);
  if ((e = tr.check('mremap: vma_lookup(addr)', vma === null, Errno.EFAULT))) return e;
  vrm.vma = vma;
  if (
    mm.profile.mseal === 'vma' &&
    (e = tr.check('mremap: can_modify_vma', (vma!.flags & VM.SEALED) !== 0, Errno.EPERM))
  )
    return e;
  if ((e = alignHugetlb(mm, vrm, a.newAddr))) return e;
  oldLenB = BigInt(vrm.oldLen);
  newLenB = BigInt(vrm.newLen);
  if (impliesNewAddr(flags)) return mremapToClassicOrVrm(mm, vrm, a, oldLenB, newLenB, 'classic');
  if (
    mm.profile.mseal === 'range' &&
    (e = tr.check(
      'mremap: can_modify_mm',
      mm.rangeSealed(vrm.addr, vrm.addr + vrm.oldLen),
      Errno.EPERM,
    ))
  )
    return e;
  if (oldLenB >= newLenB) {
    if (oldLenB > newLenB) {
      const r = mm.munmapChecked(
        a.addr + newLenB,
        oldLenB - newLenB,
        'mremap: do_vmi_munmap(tail)',
      );
      if (!r.ok) return r;
      tr.note('mremap: shrink in place', 'ok');
    } else tr.note('mremap: old_len == new_len', 'ok');
    return ok(a.addr);
  }
  if ((e = vmaToResize(mm, vrm, 'vma_to_resize'))) return e;
  return expandOrMove(mm, vrm);
}

/** mm/mremap.c:vma_to_resize / remap_is_valid (≤6.16): the per-VMA checks after lookup. */
function vmaToResize(
  mm: ModelSpace,
  vrm: VmaRemapStruct,
  fn: string,
  boundaryLen?: number,
): Err | null {
  const tr = mm.tracer;
  const vma = vrm.vma!;
  let e;
  if (
    (e = tr.check(
      `${fn}: !old_len on a private mapping`,
      vrm.oldLen === 0 && (vma.flags & (VM.SHARED | VM.MAYSHARE)) === 0,
      Errno.EINVAL,
    ))
  )
    return e;
  if (
    (e = tr.check(
      `${fn}: DONTUNMAP on VM_DONTEXPAND|VM_PFNMAP`,
      (vrm.flags & MREMAP.DONTUNMAP) !== 0n && (vma.flags & (VM.DONTEXPAND | VM.PFNMAP)) !== 0,
      Errno.EINVAL,
    ))
  )
    return e;
  const len = boundaryLen ?? vrm.oldLen;
  if ((e = tr.check(`${fn}: old_len > vm_end - addr`, len > vma.end - vrm.addr, Errno.EFAULT)))
    return e;
  if (vrm.newLen === vrm.oldLen) return null;
  if (
    (vrm.newLen - vrm.oldLen) / PAGE + vma.pgoff + (vrm.addr - vma.start) / PAGE >
    Number.MAX_SAFE_INTEGER
  ) {
    return tr.fail(`${fn}: pgoff overflow`, Errno.EINVAL);
  }
  if (
    (e = tr.check(
      `${fn}: VM_DONTEXPAND|VM_PFNMAP growth`,
      (vma.flags & (VM.DONTEXPAND | VM.PFNMAP)) !== 0,
      Errno.EFAULT,
    ))
  )
    return e;
  if (
    (e = tr.check(
      `${fn}: mlock_future_ok`,
      !mm.mlockFutureOk((vma.flags & VM.LOCKED) !== 0, vrm.newLen - vrm.oldLen),
      Errno.EAGAIN,
    ))
  )
    return e;
  if (
    (e = tr.check(
      `${fn}: may_expand_vm`,
      !mm.mayExpandVm((vrm.newLen - vrm.oldLen) / PAGE),
      Errno.ENOMEM,
    ))
  )
    return e;
  return null;
}

/** mremap_to for ≤6.14 ('classic') and 6.15–6.16 ('vrm'). */
function mremapToClassicOrVrm(
  mm: ModelSpace,
  vrm: VmaRemapStruct,
  a: RemapArgs,
  oldLenB: bigint,
  newLenB: bigint,
  order: 'classic' | 'vrm',
): Result<bigint> {
  const tr = mm.tracer;
  let e;
  const newAddrB = a.newAddr & U64;
  if (order === 'classic') {
    if (
      (e = tr.check('mremap_to: offset_in_page(new_addr)', (newAddrB & 4095n) !== 0n, Errno.EINVAL))
    )
      return e;
  }
  if (
    (e = tr.check(
      'mremap_to: new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len',
      newLenB > mm.o.taskSize || newAddrB > mm.o.taskSize - newLenB,
      Errno.EINVAL,
    ))
  )
    return e;
  if (
    (e = tr.check(
      'mremap_to: ranges overlap',
      overlaps(a.addr, oldLenB, newAddrB, newLenB),
      Errno.EINVAL,
    ))
  )
    return e;
  if (order === 'classic') {
    if (
      (e = tr.check(
        'mremap_to: map_count + 2 >= max_map_count - 3',
        mm.mapCount + 2 >= mm.o.maxMapCount - 3,
        Errno.ENOMEM,
      ))
    )
      return e;
    if (
      mm.profile.mseal === 'range' &&
      (e = tr.check(
        'mremap_to: can_modify_mm(source)',
        mm.rangeSealed(vrm.addr, vrm.addr + vrm.oldLen),
        Errno.EPERM,
      ))
    )
      return e;
  }
  if ((vrm.flags & MREMAP.FIXED) !== 0n) {
    const r = mm.doMunmap(vrm.newAddr, vrm.newAddr + vrm.newLen, 'mremap_to: do_munmap(new_addr)');
    if (!r.ok) return r;
    tr.note('mremap_to: destination unmapped', 'ok');
  }
  if (vrm.oldLen > vrm.newLen) {
    const r = mm.doMunmap(
      vrm.addr + vrm.newLen,
      vrm.addr + vrm.oldLen,
      'mremap_to: do_munmap(tail)',
    );
    if (!r.ok) return r;
    vrm.oldLen = vrm.newLen;
  }
  vrm.vma = mm.tree.lookup(vrm.addr);
  if (
    (e = tr.check(
      `${order === 'classic' ? 'vma_to_resize' : 'remap_is_valid'}: vma_lookup(addr)`,
      vrm.vma === null,
      Errno.EFAULT,
    ))
  )
    return e;
  if ((e = vmaToResize(mm, vrm, order === 'classic' ? 'vma_to_resize' : 'remap_is_valid')))
    return e;
  return mremapToTail(mm, vrm);
}

/** The end of mremap_to: DONTUNMAP charge, get_unmapped_area, move_vma. */
function mremapToTail(mm: ModelSpace, vrm: VmaRemapStruct): Result<bigint> {
  const tr = mm.tracer;
  let e;
  if ((vrm.flags & MREMAP.DONTUNMAP) !== 0n) {
    if (
      (e = tr.check(
        'mremap_to: DONTUNMAP may_expand_vm(old_len)',
        !mm.mayExpandVm(vrm.oldLen / PAGE),
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
function placeMove(mm: ModelSpace, vrm: VmaRemapStruct, hint: bigint): Result<number> {
  const vma = vrm.vma!;
  const thp = mm.profile.thpAlignUnmapped && vma.isAnonymous && vrm.newLen % PMD === 0;
  return mm.getUnmappedArea(vrm.newLen, hint, thp ? PMD : PAGE);
}

/** mremap_at EXPAND: in place when vma_expandable, else move with MAYMOVE, else ENOMEM. */
function expandOrMove(mm: ModelSpace, vrm: VmaRemapStruct): Result<bigint> {
  const tr = mm.tracer;
  const vma = vrm.vma!;
  if (vma.end - vrm.addr === vrm.oldLen && vmaExpandable(mm, vma, vrm.delta)) {
    tr.note('vrm_can_expand_in_place', 'yes');
    return expandVma(mm, vrm);
  }
  tr.note('vrm_can_expand_in_place', 'no');
  if ((vrm.flags & MREMAP.MAYMOVE) === 0n)
    return tr.fail('mremap_at: cannot expand in place and no MAYMOVE', Errno.ENOMEM);
  const r = placeMove(mm, vrm, 0n);
  if (!r.ok) return r;
  vrm.newAddr = r.value;
  const m = moveVma(mm, vrm);
  return m.ok ? ok(BigInt(m.value)) : m;
}

/** mm/mremap.c:vma_expandable — nothing mapped in [vm_end, vm_end+delta), within TASK_SIZE. */
function vmaExpandable(mm: ModelSpace, vma: Vma, delta: number): boolean {
  const end = vma.end + delta;
  if (BigInt(end) > mm.o.taskSize) return false;
  return mm.tree.intersection(vma.end, end) === null;
}

/** mm/mremap.c:expand_vma_in_place → vma_merge_extend (a new-range merge with prev = vma). */
function expandVma(mm: ModelSpace, vrm: VmaRemapStruct): Result<bigint> {
  const tr = mm.tracer;
  const vma = vrm.vma!;
  const vmg: VmaMergeState = {
    prev: vma,
    next: vma.next,
    middle: null,
    start: vma.end,
    end: vma.end + vrm.delta,
    flags: vma.flags,
    file: vma.file,
    pgoff: vma.pgoff + vma.pages,
    anonVma: vma.anonVma,
    chainLen: vma.chainLen,
    uffd: vma.uffd,
    copiedFrom: null,
  };
  const oldEnd = vma.end;
  const m = vmaMergeNewRange(mm.tree, mm.profile, vmg);
  if (m === null) return tr.fail('vma_merge_extend', Errno.ENOMEM);
  tr.note('vma_merge_extend', `merged-${m.kind}`);
  if ((vma.flags & VM.LOCKED) !== 0) {
    mm.lockedVm += vrm.delta / PAGE;
    mm.populate(oldEnd, oldEnd + vrm.delta);
  }
  return ok(BigInt(vrm.addr));
}

/** mm/mremap.c:should_relocate_anon (RFC v2): 'relocate', 'normal', or EFAULT under MUST. */
function shouldRelocateAnon(
  mm: ModelSpace,
  vrm: VmaRemapStruct,
  vma: Vma,
): 'relocate' | 'normal' | Err {
  const tr = mm.tracer;
  if (!vrm.relocate) return 'normal';
  const refuse = (why: string): 'normal' | Err => {
    if (vrm.mustRelocate) return tr.fail(`should_relocate_anon: ${why}`, Errno.EFAULT);
    tr.note(`should_relocate_anon: ${why}`, 'fallback');
    return 'normal';
  };
  if ((vma.flags & (VM_SPECIAL | VM.HUGETLB)) !== 0 || vma.special !== null)
    return refuse('VM_SPECIAL or hugetlb');
  if (!vma.isAnonymous) return refuse('not vma_is_anonymous');
  if (vmaIsForkChild(vma) || (vma.anonVma !== null && vma.anonVma.numChildren > 1)) {
    return refuse('vma_maybe_has_shared_anon_folios');
  }
  if (vma.anonVma === null) {
    tr.note('should_relocate_anon: unfaulted', 'normal');
    return 'normal';
  }
  tr.note('should_relocate_anon', 'relocate');
  return 'relocate';
}

/**
 * mm/mremap.c:move_vma — prep_move_vma, copy_vma (destination merge incl. self-merge),
 * move_page_tables, userfaultfd reset, then unmap_source_vma or dontunmap_complete.
 */
export function moveVma(mm: ModelSpace, vrm: VmaRemapStruct): Result<number> {
  const tr = mm.tracer;
  let e;
  let vma = mm.tree.lookup(vrm.addr)!;
  const { addr, oldLen, newLen, newAddr } = vrm;
  const dontunmap = (vrm.flags & MREMAP.DONTUNMAP) !== 0n;
  if (
    (e = tr.check(
      'prep_move_vma: map_count >= max_map_count - 3',
      mm.mapCount >= mm.o.maxMapCount - 3,
      Errno.ENOMEM,
    ))
  )
    return e;
  if (vma.special?.refuseSplit === true && (addr !== vma.start || addr + oldLen !== vma.end)) {
    return tr.fail('prep_move_vma: vm_ops->may_split', Errno.EINVAL);
  }
  const reloc = shouldRelocateAnon(mm, vrm, vma);
  if (typeof reloc === 'object') return reloc;
  if (dontunmap && (vma.flags & VM.LOCKED) !== 0 && mm.profile.dontunmapSplitsLockedSource) {
    // mm/mremap.c:move_vma of the 6.1.y/6.12.y stable trees: "To account mlock()'d pages
    // correctly in the MREMAP_DONTUNMAP case perform any split ahead of time for an
    // mlock()'d VMA", so only the moved range of the source loses VM_LOCKED.
    if (vma.start < addr) vma = mm.splitVma(vma, addr)[1];
    if (vma.end > addr + oldLen) vma = mm.splitVma(vma, addr + oldLen)[0];
    tr.note('move_vma: split the mlock()ed source ahead of time (stable backport)', 'ok');
  }
  // mm/vma.c:copy_vma — unfaulted anonymous VMAs take new_addr as pgoff.
  let pgoff = vma.pgoff + (addr - vma.start) / PAGE;
  if (vma.isAnonymous && vma.anonVma === null) pgoff = newAddr / PAGE;
  const prev = mm.tree.floor(newAddr - 1);
  const vmg: VmaMergeState = {
    prev,
    next: prev === null ? mm.tree.head : prev.next,
    middle: null,
    start: newAddr,
    end: newAddr + newLen,
    flags: vma.flags,
    file: vma.file,
    pgoff,
    anonVma: vma.anonVma,
    chainLen: vma.chainLen,
    uffd: vma.uffd,
    copiedFrom: vma,
  };
  const srcStart = vma.start;
  const merged = vmaMergeNewRange(mm.tree, mm.profile, vmg);
  let newVma: Vma;
  let relocated = false;
  if (merged !== null) {
    newVma = merged.vma;
    tr.note('copy_vma: vma_merge_new_range', `merged-${merged.kind}`);
    if (srcStart >= newVma.start && srcStart < newVma.end) {
      tr.note('copy_vma: source merged into destination (unfaulted self-merge)', 'ok');
      vma = newVma;
    }
    if (reloc === 'relocate')
      tr.note('copy_vma: ordinary merge succeeded, relocation cancelled', 'ok');
  } else {
    newVma = vma.dup(newAddr, newAddr + newLen, pgoff);
    if (reloc === 'relocate') {
      // RFC v2: the new VMA gets pgoff = new_addr/PS and a fresh, unforked anon_vma.
      newVma.pgoff = newAddr / PAGE;
      newVma.anonVma = new AnonVma(null);
      newVma.chainLen = 1;
      relocated = true;
    }
    mm.tree.insert(newVma);
    tr.note('copy_vma: new VMA', relocated ? 'relocated' : 'ok');
  }
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
    uffdBlocksTableMove: mm.profile.uffdBlocksTableMove && vma.uffd !== null,
  });
  tr.plan(plan);
  tr.note(
    'move_page_tables',
    'ok',
    `${plan.counts.pmd} PMD, ${plan.counts.pte} PTE, ${plan.counts['huge-pmd']} huge-PMD, ${plan.counts.pud} PUD moves${plan.realigned ? ', realigned' : ''}`,
  );
  // Pages move with their frames.
  const moved: [number, ReturnType<typeof mm.ptes.get>][] = [];
  const shift = (newAddr - addr) / PAGE;
  mm.forEachPte(addr, addr + oldLen, (pn, pte) => moved.push([pn, pte]));
  for (const [pn] of moved) mm.ptes.delete(pn);
  for (const [pn, pte] of moved) mm.ptes.set(pn + shift, pte!);
  // move_ptes moves guard markers with the other entries.
  const guards = [...mm.guards].filter((pn) => pn >= addr / PAGE && pn < (addr + oldLen) / PAGE);
  for (const pn of guards) mm.guards.delete(pn);
  for (const pn of guards) mm.guards.add(pn + shift);
  // mremap_userfaultfd_prep: without UFFD_FEATURE_EVENT_REMAP the new VMA loses its registration.
  if (newVma.uffd !== null) {
    newVma.uffd = null;
    newVma.flags &= ~VM.UFFD_MISSING;
  }
  const locked = (vma.flags & VM.LOCKED) !== 0;
  if (locked && (!dontunmap || mm.profile.dontunmapLockedVmGrows)) mm.lockedVm += newLen / PAGE;
  if (relocated) {
    const vmg2: VmaMergeState = {
      prev: newVma.prev,
      next: null,
      middle: newVma,
      start: newVma.start,
      end: newVma.end,
      flags: newVma.flags,
      file: newVma.file,
      pgoff: newVma.pgoff,
      anonVma: newVma.anonVma,
      chainLen: newVma.chainLen,
      uffd: newVma.uffd,
      copiedFrom: null,
    };
    const m2 = vmaMergeExistingRange(mm.tree, mm.profile, vmg2);
    tr.note(
      'relocate_anon: vma_merge_existing_range',
      m2 === null ? 'no-merge' : `merged-${m2.kind}`,
    );
  }
  if (!dontunmap) {
    removeRange(mm, addr, addr + oldLen);
    tr.note('unmap_source_vma', 'ok');
  } else {
    // mm/mremap.c:dontunmap_complete
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
  if (locked && newLen > oldLen) mm.populate(newAddr + oldLen, newAddr + newLen);
  return ok(newAddr);
}

/** unmap_source_vma: munmap semantics without the syscall checks (already done). */
function removeRange(mm: ModelSpace, start: number, end: number): void {
  // mm/vma.c:do_vmi_munmap refuses end == start before splitting anything, so a shared
  // old_len == 0 "duplicate" move leaves its source whole.
  if (end <= start) return;
  let v = mm.tree.findVma(start);
  if (v === null || v.start >= end) return;
  if (v.start < start) v = mm.splitVma(v, start)[1];
  while (v !== null && v.start < end) {
    const nx: Vma | null = v.next;
    if (v.end > end) v = mm.splitVma(v, end)[0];
    if ((v.flags & VM.LOCKED) !== 0) mm.lockedVm -= v.pages;
    mm.tree.remove(v);
    v = nx;
  }
  mm.zapRange(start, end);
  mm.dropGuards(start, end);
  mm.freePgtables(start, end);
}

// ───────────────────────── 6.15–6.16: first vrm refactor ─────────────────────────

function mremapVrm(mm: ModelSpace, a: RemapArgs): Result<bigint> {
  const tr = mm.tracer;
  const flags = a.flags;
  let e;
  if (
    (e = tr.check(
      'check_mremap_params: flags & ~allowed',
      (flags & ~allowedFlags(mm)) !== 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  if (
    (e = tr.check(
      'check_mremap_params: offset_in_page(addr)',
      (a.addr & 4095n) !== 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  if (
    (e = tr.check(
      'check_mremap_params: !PAGE_ALIGN(new_len)',
      pageAlignU64(a.newLen) === 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  if ((e = checkRelocateFlags(mm, flags))) return e;
  if (impliesNewAddr(flags)) {
    if (
      (e = tr.check(
        'check_mremap_params: offset_in_page(new_addr)',
        (a.newAddr & 4095n) !== 0n,
        Errno.EINVAL,
      ))
    )
      return e;
    if (
      (e = tr.check('check_mremap_params: !MAYMOVE', (flags & MREMAP.MAYMOVE) === 0n, Errno.EINVAL))
    )
      return e;
    if (
      (e = tr.check(
        'check_mremap_params: DONTUNMAP && old_len != new_len (unaligned)',
        (flags & MREMAP.DONTUNMAP) !== 0n && a.oldLen !== a.newLen,
        Errno.EINVAL,
      ))
    )
      return e;
    if (
      (e = tr.check(
        'check_mremap_params: map_count + 2 >= max_map_count - 3',
        mm.mapCount + 2 >= mm.o.maxMapCount - 3,
        Errno.ENOMEM,
      ))
    )
      return e;
  }
  let oldLenB = pageAlignU64(a.oldLen);
  let newLenB = pageAlignU64(a.newLen);
  const vrm = newVrm(mm, a, oldLenB, newLenB);
  const vma = a.addr > mm.o.taskSize ? null : mm.tree.lookup(vrm.addr);
  if ((e = tr.check('do_mremap: vma_lookup(addr)', vma === null, Errno.EFAULT))) return e;
  vrm.vma = vma;
  if ((e = tr.check('do_mremap: can_modify_vma', (vma!.flags & VM.SEALED) !== 0, Errno.EPERM)))
    return e;
  if ((e = alignHugetlb(mm, vrm, a.newAddr))) return e;
  oldLenB = BigInt(vrm.oldLen);
  newLenB = BigInt(vrm.newLen);
  if (impliesNewAddr(flags)) return mremapToClassicOrVrm(mm, vrm, a, oldLenB, newLenB, 'vrm');
  if (vrm.type === 'NO_RESIZE') {
    tr.note('mremap_at: NO_RESIZE', 'ok');
    return ok(a.addr);
  }
  if (vrm.type === 'SHRINK') {
    const r = mm.munmapChecked(a.addr + newLenB, oldLenB - newLenB, 'shrink_vma: do_vmi_munmap');
    if (!r.ok) return r;
    return ok(a.addr);
  }
  if ((e = vmaToResize(mm, vrm, 'remap_is_valid'))) return e;
  return expandOrMove(mm, vrm);
}

// ───────────────────────── 6.17+: check_mremap_params / check_prep_vma / remap_move ─────────────────────────

function mremapMulti(mm: ModelSpace, a: RemapArgs): Result<bigint> {
  const tr = mm.tracer;
  const flags = a.flags;
  let e;
  const oldLenB = pageAlignU64(a.oldLen);
  const newLenB = pageAlignU64(a.newLen);
  const newAddrB = a.newAddr & U64;
  if (
    (e = tr.check(
      'check_mremap_params: flags & ~allowed',
      (flags & ~allowedFlags(mm)) !== 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  if (
    (e = tr.check(
      'check_mremap_params: offset_in_page(addr)',
      (a.addr & 4095n) !== 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  if ((e = tr.check('check_mremap_params: !new_len', newLenB === 0n, Errno.EINVAL))) return e;
  if ((e = checkRelocateFlags(mm, flags))) return e;
  if (
    (e = tr.check(
      'check_mremap_params: new_len > TASK_SIZE',
      newLenB > mm.o.taskSize,
      Errno.EINVAL,
    ))
  )
    return e;
  if (impliesNewAddr(flags)) {
    if (
      (e = tr.check(
        'check_mremap_params: new_addr > TASK_SIZE - new_len',
        newAddrB > mm.o.taskSize - newLenB,
        Errno.EINVAL,
      ))
    )
      return e;
    if (
      (e = tr.check(
        'check_mremap_params: offset_in_page(new_addr)',
        (newAddrB & 4095n) !== 0n,
        Errno.EINVAL,
      ))
    )
      return e;
    if (
      (e = tr.check('check_mremap_params: !MAYMOVE', (flags & MREMAP.MAYMOVE) === 0n, Errno.EINVAL))
    )
      return e;
    if (
      (e = tr.check(
        'check_mremap_params: DONTUNMAP && old_len != new_len',
        (flags & MREMAP.DONTUNMAP) !== 0n && oldLenB !== newLenB,
        Errno.EINVAL,
      ))
    )
      return e;
    if (
      (e = tr.check(
        'check_mremap_params: ranges overlap',
        overlaps(a.addr, oldLenB, newAddrB, newLenB),
        Errno.EINVAL,
      ))
    )
      return e;
    if (
      (e = tr.check(
        'check_mremap_params: map_count + 2 >= max_map_count - 3',
        mm.mapCount + 2 >= mm.o.maxMapCount - 3,
        Errno.ENOMEM,
      ))
    )
      return e;
  } else tr.note('check_mremap_params: no new address implied', 'pass');
  const vrm = newVrm(mm, a, oldLenB, newLenB);
  if ((flags & MREMAP.FIXED) !== 0n && oldLenB === newLenB) return remapMove(mm, vrm);
  const r = checkPrepVma(mm, vrm, a.addr > mm.o.taskSize);
  if (r === 'done') {
    if (vrm.type === 'SHRINK') {
      // shrink_vma works on vrm->new_len/old_len, which align_hugetlb may have rounded up.
      const u = mm.munmapChecked(
        a.addr + BigInt(vrm.newLen),
        BigInt(vrm.delta),
        'shrink_vma: do_vmi_munmap',
      );
      if (!u.ok) return u;
      tr.note('mremap_at: shrink in place', 'ok');
    } else tr.note('mremap_at: NO_RESIZE', 'ok');
    return ok(a.addr);
  }
  if (r !== 'ok') return r;
  if (impliesNewAddr(flags)) return mremapTo617(mm, vrm);
  if (vrm.type === 'NO_RESIZE') return ok(a.addr);
  return expandOrMove(mm, vrm);
}

/** mm/mremap.c:check_prep_vma (6.17+): 'done' for a plain no-op/shrink, 'ok' to continue. */
function checkPrepVma(
  mm: ModelSpace,
  vrm: VmaRemapStruct,
  outOfRange: boolean,
): 'ok' | 'done' | Err {
  const tr = mm.tracer;
  let e;
  const vma = outOfRange ? null : mm.tree.lookup(vrm.addr);
  if ((e = tr.check('check_prep_vma: vma_lookup(addr)', vma === null, Errno.EFAULT))) return e;
  vrm.vma = vma;
  if ((e = tr.check('check_prep_vma: vma_is_sealed', (vma!.flags & VM.SEALED) !== 0, Errno.EPERM)))
    return e;
  if ((e = alignHugetlb(mm, vrm, BigInt(vrm.newAddr)))) return e;
  const implies = impliesNewAddr(vrm.flags);
  if (!implies) vrm.newAddr = vrm.addr;
  if (vrm.type !== 'EXPAND' && !implies) {
    tr.note('check_prep_vma: not EXPAND and no new address', 'done');
    return 'done';
  }
  const boundary = vrm.type === 'SHRINK' ? vrm.newLen : vrm.oldLen;
  if ((e = vmaToResize(mm, vrm, 'check_prep_vma', boundary))) return e;
  return 'ok';
}

/** mm/mremap.c:mremap_to (6.17+): the destination is unmapped only after check_prep_vma. */
function mremapTo617(mm: ModelSpace, vrm: VmaRemapStruct): Result<bigint> {
  const tr = mm.tracer;
  if ((vrm.flags & MREMAP.FIXED) !== 0n) {
    const r = mm.doMunmap(vrm.newAddr, vrm.newAddr + vrm.newLen, 'mremap_to: do_munmap(new_addr)');
    if (!r.ok) return r;
    tr.note('mremap_to: destination unmapped', 'ok');
  }
  if (vrm.type === 'SHRINK') {
    const r = mm.doMunmap(vrm.addr + vrm.newLen, vrm.addr + vrm.oldLen, 'mremap_to: shrink_vma');
    if (!r.ok) return r;
    vrm.oldLen = vrm.newLen;
  }
  vrm.vma = mm.tree.lookup(vrm.addr);
  if (vrm.vma === null) return tr.fail('mremap_to: vma_lookup after unmap', Errno.EFAULT);
  return mremapToTail(mm, vrm);
}

/** mm/mremap.c:vma_multi_allowed — uffd-armed VMAs cannot be part of a multi-VMA move. */
function vmaMultiAllowed(vma: Vma): boolean {
  return vma.uffd === null;
}

/** mm/mremap.c:remap_move (6.17+): FIXED same-size moves across VMAs, gaps preserved. */
function remapMove(mm: ModelSpace, vrm: VmaRemapStruct): Result<bigint> {
  const tr = mm.tracer;
  const start = vrm.addr;
  const end = vrm.addr + vrm.oldLen;
  const outOfRange = BigInt(start) > mm.o.taskSize;
  let vma = outOfRange ? null : mm.tree.findVma(start);
  let e;
  if ((e = tr.check('remap_move: no VMA in range', vma === null || vma.start >= end, Errno.EFAULT)))
    return e;
  if ((e = tr.check('remap_move: range starts in a hole', vma!.start > start, Errno.EFAULT)))
    return e;
  let target = vrm.newAddr;
  let lastEnd = start;
  let seen = false;
  let cur = start;
  while (vma !== null && vma.start < end && cur < end) {
    const s = Math.max(vma.start, cur);
    const en = Math.min(vma.end, end);
    if (seen) target += s - lastEnd;
    if (!vmaMultiAllowed(vma) && (seen || end > vma.end)) {
      return tr.fail('remap_move: !vma_multi_allowed', Errno.EFAULT);
    }
    const piece: VmaRemapStruct = {
      ...vrm,
      addr: s,
      oldLen: en - s,
      newLen: en - s,
      newAddr: target,
      vma: null,
      delta: 0,
      type: 'NO_RESIZE',
    };
    tr.note(
      'remap_move: piece',
      'ok',
      `[0x${s.toString(16)}, 0x${en.toString(16)}) → 0x${target.toString(16)}`,
    );
    const r = checkPrepVma(mm, piece, false);
    if (typeof r === 'object') return r;
    const m = mremapTo617(mm, piece);
    if (!m.ok) return m;
    target += en - s;
    lastEnd = en;
    seen = true;
    cur = en;
    vma = mm.tree.findVma(en);
  }
  return ok(BigInt(vrm.newAddr));
}
