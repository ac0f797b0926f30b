/**
 * fs/userfaultfd.c: userfaultfd_api (a ctx and its features), userfaultfd_register (MISSING,
 * WP and MINOR modes) and the mremap side of a registration (mremap_userfaultfd_prep).
 */
import { Mm } from './mm.js';
import { PMD } from './page-tables.js';
import { applyFlags } from './vma-ops.js';
import { VM, VM_UFFD_FLAGS, Vma } from './vma.js';
import { UFFD_FEATURE, UFFDIO_REGISTER_MODE } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { ok, type Err, type Result } from '../space/result.js';

/**
 * fs/userfaultfd.c:userfaultfd_syscall_allowed — UFFD_USER_MODE_ONLY (5.11) is always
 * allowed; kernel faults need CAP_SYS_PTRACE or vm.unprivileged_userfaultfd (5.2).
 */
function syscallAllowed(mm: Mm, kernelFaults: boolean): Err | null {
  return mm.tracer.check(
    'userfaultfd_syscall_allowed',
    kernelFaults && !mm.o.capSysPtrace && !mm.o.unprivilegedUserfaultfd,
    Errno.EPERM,
  );
}

/**
 * userfaultfd() + UFFDIO_API(features): a fresh ctx that later registrations use. Any bit
 * outside the release's UFFD_API_FEATURES is EINVAL (userfaultfd_api, every version); the
 * current ctx is then unchanged.
 */
export function userfaultfdApi(mm: Mm, features: number, kernelFaults = false): Result<0> {
  const tr = mm.tracer;
  tr.begin('uffdio_api');
  const denied = syscallAllowed(mm, kernelFaults);
  if (denied) return denied;
  const unknown = features & ~mm.profile.uffdApiFeatures;
  if (unknown !== 0)
    return tr.fail(
      'userfaultfd_api: features & ~UFFD_API_FEATURES',
      Errno.EINVAL,
      `0x${unknown.toString(16)}`,
    );
  // userfaultfd_api (6.7, "userfaultfd: UFFD_FEATURE_WP_ASYNC"): WP_ASYNC implies WP_UNPOPULATED.
  const enabled =
    (features & UFFD_FEATURE.WP_ASYNC) !== 0 ? features | UFFD_FEATURE.WP_UNPOPULATED : features;
  const ctx = mm.world.nextUffd++;
  mm.world.uffdFeatures.set(ctx, enabled);
  mm.uffdCtx = ctx;
  tr.note('userfaultfd_api', 'ok', `features 0x${enabled.toString(16)}`);
  return ok(0);
}

function ctxFeatures(mm: Mm, ctx: number | null): number {
  return ctx === null ? 0 : (mm.world.uffdFeatures.get(ctx) ?? 0);
}

/** fs/userfaultfd.c:vma_has_uffd_without_event_remap (the uffd-wp mremap fix, 6.13, stable-backported). */
export function vmaHasUffdWithoutEventRemap(mm: Mm, vma: Vma): boolean {
  return vma.uffd !== null && (ctxFeatures(mm, vma.uffd) & UFFD_FEATURE.EVENT_REMAP) === 0;
}

/**
 * fs/userfaultfd.c:mremap_userfaultfd_prep — with EVENT_REMAP the moved VMA stays registered
 * with its ctx (and the monitor is told where it went); without, it loses ctx and VM_UFFD_*.
 */
export function mremapUserfaultfdPrep(mm: Mm, newVma: Vma): void {
  if (newVma.uffd === null) return;
  if ((ctxFeatures(mm, newVma.uffd) & UFFD_FEATURE.EVENT_REMAP) !== 0) {
    mm.tracer.note('mremap_userfaultfd_prep', 'ok', 'EVENT_REMAP: the ctx follows the VMA');
    return;
  }
  newVma.uffd = null;
  newVma.flags &= ~VM_UFFD_FLAGS;
}

/**
 * include/linux/userfaultfd_k.h:vma_can_userfault — MINOR only on shmem or hugetlb (5.13/
 * 5.14); WP and MISSING on anonymous, shmem or hugetlb (WP on shmem/hugetlb needs
 * CONFIG_PTE_MARKER_UFFD_WP, 5.19, on in every kernel modelled); never on a special mapping.
 * 6.7's WP_ASYNC "any memory type" clause adds nothing here: every mapping the model makes
 * is anonymous, shmem or hugetlb.
 */
function vmaCanUserfault(v: Vma, vmFlags: number): boolean {
  const hugetlb = (v.flags & VM.HUGETLB) !== 0;
  if (v.special !== null && !hugetlb) return false;
  if ((vmFlags & VM.UFFD_MINOR) !== 0 && !hugetlb && v.file === null) return false;
  return true;
}

/** UFFDIO_REGISTER of [addr, addr+length) in `mode` (UFFDIO_REGISTER_MODE_* bits) with the current ctx. */
export function userfaultfdRegister(
  mm: Mm,
  addr: bigint,
  length: bigint,
  mode: number = UFFDIO_REGISTER_MODE.MISSING,
  kernelFaults = false,
): Result<0> {
  const tr = mm.tracer;
  tr.begin('uffd_register');
  let e;
  // The space's userfaultfd is opened by its first register.
  if (mm.uffdCtx === null && (e = syscallAllowed(mm, kernelFaults))) return e;
  // fs/userfaultfd.c:userfaultfd_register — mode 0 or unknown mode bits: EINVAL.
  const known = UFFDIO_REGISTER_MODE.MISSING | UFFDIO_REGISTER_MODE.WP | UFFDIO_REGISTER_MODE.MINOR;
  if (
    (e = tr.check(
      'userfaultfd_register: bad mode',
      mode === 0 || (mode & ~known) !== 0,
      Errno.EINVAL,
    ))
  )
    return e;
  const vmFlags =
    ((mode & UFFDIO_REGISTER_MODE.MISSING) !== 0 ? VM.UFFD_MISSING : 0) |
    ((mode & UFFDIO_REGISTER_MODE.WP) !== 0 ? VM.UFFD_WP : 0) |
    ((mode & UFFDIO_REGISTER_MODE.MINOR) !== 0 ? VM.UFFD_MINOR : 0);
  // fs/userfaultfd.c:userfaultfd_register → validate_range.
  if (
    (e = tr.check(
      'validate_range: unaligned',
      (addr & 4095n) !== 0n || (length & 4095n) !== 0n,
      Errno.EINVAL,
    ))
  )
    return e;
  if ((e = tr.check('validate_range: !len', length === 0n, Errno.EINVAL))) return e;
  if (
    (e = tr.check('validate_range: beyond TASK_SIZE', addr + length > mm.o.taskSize, Errno.EINVAL))
  )
    return e;
  const start = Number(addr);
  const end = Number(addr + length);
  if (mm.uffdCtx === null) {
    // The tool opens its ctx on first use with no features (KernelSpace does the same).
    mm.uffdCtx = mm.world.nextUffd++;
    mm.world.uffdFeatures.set(mm.uffdCtx, 0);
  }
  const ctx = mm.uffdCtx;
  // fs/userfaultfd.c:userfaultfd_register — vma_find(&vmi, end): EINVAL only when no VMA
  // intersects the range. Holes before, between or after VMAs are not checked (never
  // were); userfaultfd_register_range arms each VMA's intersection.
  const first = mm.tree.findVma(start);
  if (
    (e = tr.check(
      'userfaultfd_register: no VMA in range',
      first === null || first.start >= end,
      Errno.EINVAL,
    ))
  )
    return e;
  // hugetlb: the first VMA's start and the end inside a hugetlb VMA must be huge-aligned.
  const hsize = (v: Vma): number => v.special?.splitAlign ?? PMD;
  if ((first!.flags & VM.HUGETLB) !== 0 && start % hsize(first!) !== 0)
    return tr.fail('userfaultfd_register: hugetlb start alignment', Errno.EINVAL);
  for (let v: Vma | null = first; v !== null && v.start < end; v = v.next) {
    if (!vmaCanUserfault(v, vmFlags)) return tr.fail('vma_can_userfault', Errno.EINVAL);
    // A regular file's VMA is none of the three (vma_is_shmem false): EINVAL since 4.3.
    if (v.file?.disk === true) return tr.fail('vma_can_userfault: not shmem', Errno.EINVAL);
    if ((v.flags & VM.HUGETLB) !== 0 && end <= v.end && end % hsize(v) !== 0)
      return tr.fail('userfaultfd_register: hugetlb end alignment', Errno.EINVAL);
    if (v.uffd !== null && v.uffd !== ctx)
      return tr.fail('userfaultfd_register: other ctx', Errno.EBUSY);
  }
  // userfaultfd_register_range: a VMA of this ctx that has every requested mode is skipped;
  // otherwise new_flags = (vm_flags & ~__VM_UFFD_FLAGS) | the modes: re-registering with
  // other modes replaces them.
  return applyFlags(
    mm,
    start,
    end,
    'userfaultfd_register',
    (v) =>
      v.uffd === ctx && (v.flags & vmFlags) === vmFlags
        ? null
        : { flags: (v.flags & ~VM_UFFD_FLAGS) | vmFlags, uffd: ctx },
    null,
    false,
  );
}
