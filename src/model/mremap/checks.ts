/**
 * mremap() validation as data: each kernel check is a named function, and each kernel
 * version's validation order is an ordered list of them (CLASSIC, VRM, MULTI). Step names
 * are the kernel function and condition, so a trace reads like the source of that version:
 * ≤6.14 SYSCALL_DEFINE5(mremap) + mremap_to + vma_to_resize; 6.15–6.16 check_mremap_params +
 * do_mremap + remap_is_valid; 6.17+ check_mremap_params + check_prep_vma (per VMA for
 * remap_move).
 */
import type { RemapArgs } from '../../space/address-space.js';
import { MREMAP } from '../../space/constants.js';
import { Errno } from '../../space/errno.js';
import type { Err } from '../../space/result.js';
import { mayExpandVm, mlockFutureOk } from '../mmap.js';
import { PAGE, pageAlignU64, U64, type Mm } from '../mm.js';
import { PMD } from '../page-tables.js';
import { VM } from '../vma.js';
import { rangeSealed } from '../vma-ops.js';
import {
  allowedFlags,
  impliesNewAddr,
  newVrm,
  overlaps,
  setLengths,
  type VmaRemapStruct,
} from './vrm.js';

/** One mremap() call under validation: the raw arguments, aligned lengths, the vrm. */
export interface MremapCall {
  mm: Mm;
  a: RemapArgs;
  /** PAGE_ALIGN(old_len), PAGE_ALIGN(new_len) (align_hugetlb rounds them further). */
  oldLenB: bigint;
  newLenB: bigint;
  /** new_addr as the kernel sees it (u64). */
  newAddrB: bigint;
  vrm: VmaRemapStruct;
}

/** A check: traces itself, returns the error when the call fails here, else null. */
export type Check = (c: MremapCall) => Err | null;

export function newCall(mm: Mm, a: RemapArgs): MremapCall {
  const oldLenB = pageAlignU64(a.oldLen);
  const newLenB = pageAlignU64(a.newLen);
  return {
    mm,
    a,
    oldLenB,
    newLenB,
    newAddrB: a.newAddr & U64,
    vrm: newVrm(mm, a, oldLenB, newLenB),
  };
}

/** Runs checks in order; the first failure ends the call. */
export function runChecks(checks: readonly Check[], c: MremapCall): Err | null {
  for (const check of checks) {
    const e = check(c);
    if (e !== null) return e;
  }
  return null;
}

/** A check that fails with errno when fails(c) holds, traced as step either way. */
const failsIf = (step: string, errno: number, fails: (c: MremapCall) => boolean): Check => {
  return (c) => c.mm.tracer.check(step, fails(c), errno);
};

// ───────────────────────────── parameter checks (no VMA yet) ─────────────────────────────

/** Any flag bit outside FIXED|MAYMOVE|DONTUNMAP (and the RFC's RELOCATE_ANON bits). */
export const flagsAllowed = (step: string): Check =>
  failsIf(step, Errno.EINVAL, (c) => (c.a.flags & ~allowedFlags(c.mm)) !== 0n);

/** ≤6.14: MREMAP_FIXED without MREMAP_MAYMOVE. */
export const fixedNeedsMaymove: Check = failsIf(
  'mremap: FIXED && !MAYMOVE',
  Errno.EINVAL,
  (c) => (c.a.flags & MREMAP.FIXED) !== 0n && (c.a.flags & MREMAP.MAYMOVE) === 0n,
);

/** ≤6.14: DONTUNMAP needs MAYMOVE and old_len == new_len (compared before PAGE_ALIGN). */
export const dontunmapClassic: Check = failsIf(
  'mremap: DONTUNMAP && (!MAYMOVE || old_len != new_len) (unaligned)',
  Errno.EINVAL,
  (c) =>
    (c.a.flags & MREMAP.DONTUNMAP) !== 0n &&
    ((c.a.flags & MREMAP.MAYMOVE) === 0n || c.a.oldLen !== c.a.newLen),
);

export const addrAligned = (fn: string): Check =>
  failsIf(`${fn}: offset_in_page(addr)`, Errno.EINVAL, (c) => (c.a.addr & 4095n) !== 0n);

export const newLenNonZero = (step: string): Check =>
  failsIf(step, Errno.EINVAL, (c) => c.newLenB === 0n);

/** RELOCATE_ANON RFC: either bit without MAYMOVE → EINVAL, right after the new_len check. */
export const relocateNeedsMaymove: Check = (c) => {
  const r = c.mm.profile.relocateAnon;
  if (r === null) return null;
  return c.mm.tracer.check(
    'check_mremap_params: RELOCATE_ANON without MAYMOVE',
    (c.a.flags & (r.relocate | r.must)) !== 0n && (c.a.flags & MREMAP.MAYMOVE) === 0n,
    Errno.EINVAL,
  );
};

/** 6.17+: new_len > TASK_SIZE, checked for every call. */
const newLenFits: Check = failsIf(
  'check_mremap_params: new_len > TASK_SIZE',
  Errno.EINVAL,
  (c) => c.newLenB > c.mm.o.taskSize,
);

const newAddrFits: Check = failsIf(
  'check_mremap_params: new_addr > TASK_SIZE - new_len',
  Errno.EINVAL,
  (c) => c.newAddrB > c.mm.o.taskSize - c.newLenB,
);

/** 6.15–6.16 checked the raw new_addr, 6.17+ the u64 one: the same bits. */
const newAddrAligned = (fn: string): Check =>
  failsIf(`${fn}: offset_in_page(new_addr)`, Errno.EINVAL, (c) => (c.newAddrB & 4095n) !== 0n);

const needsMaymove: Check = failsIf(
  'check_mremap_params: !MAYMOVE',
  Errno.EINVAL,
  (c) => (c.a.flags & MREMAP.MAYMOVE) === 0n,
);

/** 6.15–6.16 compared the lengths as passed; 6.17+ after PAGE_ALIGN. */
const dontunmapSameLen = (aligned: boolean): Check =>
  failsIf(
    `check_mremap_params: DONTUNMAP && old_len != new_len${aligned ? '' : ' (unaligned)'}`,
    Errno.EINVAL,
    (c) =>
      (c.a.flags & MREMAP.DONTUNMAP) !== 0n &&
      (aligned ? c.oldLenB !== c.newLenB : c.a.oldLen !== c.a.newLen),
  );

const rangesDisjoint = (step: string): Check =>
  failsIf(step, Errno.EINVAL, (c) => overlaps(c.a.addr, c.oldLenB, c.newAddrB, c.newLenB));

/** A move may need two more VMAs (splits) and keeps 3 in reserve. */
const mapCountHeadroom = (step: string): Check =>
  failsIf(step, Errno.ENOMEM, (c) => c.mm.mapCount + 2 >= c.mm.o.maxMapCount - 3);

/** Checks that apply only when FIXED or DONTUNMAP implies a new address. */
const whenNewAddr =
  (checks: readonly Check[], otherwise?: string): Check =>
  (c) => {
    if (impliesNewAddr(c.a.flags)) return runChecks(checks, c);
    if (otherwise !== undefined) c.mm.tracer.note(otherwise, 'pass');
    return null;
  };

// ───────────────────────────── checks on the VMA at addr ─────────────────────────────

/** vma_lookup(addr); an address beyond TASK_SIZE finds nothing. */
export const vmaLookup =
  (step: string): Check =>
  (c) => {
    const vma = c.a.addr > c.mm.o.taskSize ? null : c.mm.tree.lookup(c.vrm.addr);
    c.vrm.vma = vma;
    return c.mm.tracer.check(step, vma === null, Errno.EFAULT);
  };

/** can_modify_vma / vma_is_sealed (6.12+ per VMA; 6.10–6.11 never reach it). */
export const vmaNotSealed = (step: string): Check =>
  failsIf(step, Errno.EPERM, (c) => (c.vrm.vma!.flags & VM.SEALED) !== 0);

/** ≤6.14 with the 6.12 mseal rework: can_modify_vma only in the per-VMA seal mode. */
const vmaNotSealedIfPerVma = (step: string): Check => {
  const check = vmaNotSealed(step);
  return (c) => (c.mm.profile.mseal === 'vma' ? check(c) : null);
};

/** 6.10–6.11: can_modify_mm over the source range. */
export const rangeNotSealed = (step: string): Check => {
  const check = failsIf(step, Errno.EPERM, (c) =>
    rangeSealed(c.mm, c.vrm.addr, c.vrm.addr + c.vrm.oldLen),
  );
  return (c) => (c.mm.profile.mseal === 'range' ? check(c) : null);
};

/**
 * mm/mremap.c:align_hugetlb (6.15+; the same checks sat in the ≤6.14 syscall body since
 * 2.6): round both lengths up to the huge page size, then addr and the user's raw new_addr
 * (checked even without FIXED) must be huge aligned, and a hugetlb mapping cannot grow.
 * rawNewAddr: the syscall's new_addr (≤6.16), or vrm->new_addr (6.17+ check_prep_vma, per
 * piece of a remap_move).
 */
export const alignHugetlb =
  (rawNewAddr: (c: MremapCall) => bigint): Check =>
  (c) => {
    const vrm = c.vrm;
    const v = vrm.vma!;
    if ((v.flags & VM.HUGETLB) === 0) return null;
    const tr = c.mm.tracer;
    const huge = v.special?.splitAlign ?? PMD;
    const up = (x: number) => Math.ceil(x / huge) * huge;
    setLengths(vrm, up(vrm.oldLen), up(vrm.newLen));
    c.oldLenB = BigInt(vrm.oldLen);
    c.newLenB = BigInt(vrm.newLen);
    return (
      tr.check('align_hugetlb: addr & ~huge_page_mask', vrm.addr % huge !== 0, Errno.EINVAL) ??
      tr.check(
        'align_hugetlb: new_addr & ~huge_page_mask',
        rawNewAddr(c) % BigInt(huge) !== 0n,
        Errno.EINVAL,
      ) ??
      tr.check('align_hugetlb: new_len > old_len', vrm.newLen > vrm.oldLen, Errno.EINVAL)
    );
  };

/**
 * mm/mremap.c:vma_to_resize (≤6.14) / remap_is_valid (6.15–6.16) / check_prep_vma (6.17+):
 * the per-VMA checks after lookup. check_prep_vma measures a shrink against new_len.
 */
function resizeChecks(fn: string): { always: Check[]; growth: Check[] } {
  const boundary = (c: MremapCall) =>
    fn === 'check_prep_vma' && c.vrm.type === 'SHRINK' ? c.vrm.newLen : c.vrm.oldLen;
  const grow = (c: MremapCall) => c.vrm.newLen - c.vrm.oldLen;
  return {
    always: [
      failsIf(
        `${fn}: !old_len on a private mapping`,
        Errno.EINVAL,
        (c) => c.vrm.oldLen === 0 && (c.vrm.vma!.flags & (VM.SHARED | VM.MAYSHARE)) === 0,
      ),
      failsIf(
        `${fn}: DONTUNMAP on VM_DONTEXPAND|VM_PFNMAP`,
        Errno.EINVAL,
        (c) =>
          (c.vrm.flags & MREMAP.DONTUNMAP) !== 0n &&
          (c.vrm.vma!.flags & (VM.DONTEXPAND | VM.PFNMAP)) !== 0,
      ),
      failsIf(
        `${fn}: old_len > vm_end - addr`,
        Errno.EFAULT,
        (c) => boundary(c) > c.vrm.vma!.end - c.vrm.addr,
      ),
    ],
    growth: [
      // Untraced when it passes: pgoff cannot overflow a double's integers in practice.
      (c) => {
        const v = c.vrm.vma!;
        const last = grow(c) / PAGE + v.pgoff + (c.vrm.addr - v.start) / PAGE;
        return last > Number.MAX_SAFE_INTEGER
          ? c.mm.tracer.fail(`${fn}: pgoff overflow`, Errno.EINVAL)
          : null;
      },
      failsIf(
        `${fn}: VM_DONTEXPAND|VM_PFNMAP growth`,
        Errno.EFAULT,
        (c) => (c.vrm.vma!.flags & (VM.DONTEXPAND | VM.PFNMAP)) !== 0,
      ),
      failsIf(
        `${fn}: mlock_future_ok`,
        Errno.EAGAIN,
        (c) => !mlockFutureOk(c.mm, (c.vrm.vma!.flags & VM.LOCKED) !== 0, grow(c)),
      ),
      failsIf(`${fn}: may_expand_vm`, Errno.ENOMEM, (c) => !mayExpandVm(c.mm, grow(c) / PAGE)),
    ],
  };
}

const RESIZE_CHECKS = new Map(
  (['vma_to_resize', 'remap_is_valid', 'check_prep_vma'] as const).map((fn) => [
    fn,
    resizeChecks(fn),
  ]),
);

export type ResizeCheckFn = 'vma_to_resize' | 'remap_is_valid' | 'check_prep_vma';

/** The per-VMA resize checks of one kernel function; growth checks only when the size changes. */
export function vmaToResize(c: MremapCall, fn: ResizeCheckFn): Err | null {
  const list = RESIZE_CHECKS.get(fn)!;
  const e = runChecks(list.always, c);
  if (e !== null || c.vrm.newLen === c.vrm.oldLen) return e;
  return runChecks(list.growth, c);
}

// ───────────────────────────── the orders ─────────────────────────────

export interface ValidationOrder {
  /** Before the VMA lookup (check_mremap_params, or the ≤6.14 syscall body). */
  params: readonly Check[];
  /** The lookup and what is checked on the VMA before the call branches. */
  vma: readonly Check[];
  /** mremap_to's own checks before it unmaps anything (≤6.16). */
  mremapTo: readonly Check[];
}

/** ≤6.14: SYSCALL_DEFINE5(mremap), mremap_to, vma_to_resize. */
export const CLASSIC: ValidationOrder = {
  params: [
    flagsAllowed('mremap: flags & ~(FIXED|MAYMOVE|DONTUNMAP)'),
    fixedNeedsMaymove,
    dontunmapClassic,
    addrAligned('mremap'),
    newLenNonZero('mremap: !new_len'),
  ],
  vma: [
    vmaLookup('mremap: vma_lookup(addr)'),
    vmaNotSealedIfPerVma('mremap: can_modify_vma'),
    alignHugetlb((c) => c.a.newAddr),
  ],
  mremapTo: [
    newAddrAligned('mremap_to'),
    failsIf(
      'mremap_to: new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len',
      Errno.EINVAL,
      (c) => c.newLenB > c.mm.o.taskSize || c.newAddrB > c.mm.o.taskSize - c.newLenB,
    ),
    rangesDisjoint('mremap_to: ranges overlap'),
    mapCountHeadroom('mremap_to: map_count + 2 >= max_map_count - 3'),
    rangeNotSealed('mremap_to: can_modify_mm(source)'),
  ],
};

/** 6.15–6.16: the first vma_remap_struct refactor (check_mremap_params, remap_is_valid). */
export const VRM: ValidationOrder = {
  params: [
    flagsAllowed('check_mremap_params: flags & ~allowed'),
    addrAligned('check_mremap_params'),
    newLenNonZero('check_mremap_params: !PAGE_ALIGN(new_len)'),
    relocateNeedsMaymove,
    whenNewAddr([
      newAddrAligned('check_mremap_params'),
      needsMaymove,
      dontunmapSameLen(false),
      mapCountHeadroom('check_mremap_params: map_count + 2 >= max_map_count - 3'),
    ]),
  ],
  vma: [
    vmaLookup('do_mremap: vma_lookup(addr)'),
    vmaNotSealed('do_mremap: can_modify_vma'),
    alignHugetlb((c) => c.a.newAddr),
  ],
  mremapTo: [
    failsIf(
      'mremap_to: new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len',
      Errno.EINVAL,
      (c) => c.newLenB > c.mm.o.taskSize || c.newAddrB > c.mm.o.taskSize - c.newLenB,
    ),
    rangesDisjoint('mremap_to: ranges overlap'),
  ],
};

/** 6.17+: check_mremap_params does all argument checks; check_prep_vma runs per VMA. */
export const MULTI: ValidationOrder = {
  params: [
    flagsAllowed('check_mremap_params: flags & ~allowed'),
    addrAligned('check_mremap_params'),
    newLenNonZero('check_mremap_params: !new_len'),
    relocateNeedsMaymove,
    newLenFits,
    whenNewAddr(
      [
        newAddrFits,
        newAddrAligned('check_mremap_params'),
        needsMaymove,
        dontunmapSameLen(true),
        rangesDisjoint('check_mremap_params: ranges overlap'),
        mapCountHeadroom('check_mremap_params: map_count + 2 >= max_map_count - 3'),
      ],
      'check_mremap_params: no new address implied',
    ),
  ],
  vma: [
    vmaLookup('check_prep_vma: vma_lookup(addr)'),
    vmaNotSealed('check_prep_vma: vma_is_sealed'),
    alignHugetlb((c) => BigInt(c.vrm.newAddr)),
  ],
  mremapTo: [],
};

/**
 * mm/mremap.c:check_prep_vma (6.17+): 'done' for a plain no-op/shrink (no new address, not
 * growing), 'ok' to continue to mremap_to or mremap_at.
 */
export function checkPrepVma(c: MremapCall): 'ok' | 'done' | Err {
  const e = runChecks(MULTI.vma, c);
  if (e !== null) return e;
  const vrm = c.vrm;
  const implies = impliesNewAddr(vrm.flags);
  if (!implies) vrm.newAddr = vrm.addr;
  if (vrm.type !== 'EXPAND' && !implies) {
    c.mm.tracer.note('check_prep_vma: not EXPAND and no new address', 'done');
    return 'done';
  }
  return vmaToResize(c, 'check_prep_vma') ?? 'ok';
}
