/** fs/userfaultfd.c: userfaultfd_register (MISSING mode). */
import { Mm } from './mm.js';
import { PMD } from './page-tables.js';
import { applyFlags } from './vma-ops.js';
import { VM, Vma } from './vma.js';
import { Errno } from '../space/errno.js';
import type { Result } from '../space/result.js';

export function userfaultfdRegister(
  mm: Mm,
  addr: bigint,
  length: bigint,
  kernelFaults = false,
): Result<0> {
  const tr = mm.tracer;
  tr.begin('uffd_register');
  let e;
  // The space's userfaultfd is opened by its first register: fs/userfaultfd.c:
  // userfaultfd_syscall_allowed — UFFD_USER_MODE_ONLY (5.11) is always
  // allowed; kernel faults need CAP_SYS_PTRACE or vm.unprivileged_userfaultfd (5.2).
  if (
    mm.uffdCtx === null &&
    (e = tr.check(
      'userfaultfd_syscall_allowed',
      kernelFaults && !mm.o.capSysPtrace && !mm.o.unprivilegedUserfaultfd,
      Errno.EPERM,
    ))
  )
    return e;
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
  mm.uffdCtx ??= mm.world.nextUffd++;
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
    // vma_can_userfault (MISSING): anonymous, shmem or hugetlb; not special mappings.
    if (v.special !== null && (v.flags & VM.HUGETLB) === 0)
      return tr.fail('vma_can_userfault', Errno.EINVAL);
    if ((v.flags & VM.HUGETLB) !== 0 && end <= v.end && end % hsize(v) !== 0)
      return tr.fail('userfaultfd_register: hugetlb end alignment', Errno.EINVAL);
    if (v.uffd !== null && v.uffd !== ctx)
      return tr.fail('userfaultfd_register: other ctx', Errno.EBUSY);
  }
  return applyFlags(
    mm,
    start,
    end,
    'userfaultfd_register',
    (v) => ({ flags: v.flags | VM.UFFD_MISSING, uffd: ctx }),
    null,
    false,
  );
}
