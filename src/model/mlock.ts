/** mm/mlock.c: mlock2 / munlock → do_mlock → apply_vma_lock_flags → mlock_fixup. */
import { populate } from './fault.js';
import { Mm, PAGE, U64, pageAlignU64 } from './mm.js';
import { canDoMlock } from './mmap.js';
import { vmaModify } from './vma-ops.js';
import { VM, VM_LOCKED_MASK, VM_SPECIAL } from './vma.js';
import { MLOCK } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { type Result, ok } from '../space/result.js';

export function sysMlock2(mm: Mm, addr: bigint, length: bigint, flags: number): Result<0> {
  const tr = mm.tracer;
  tr.begin('mlock2');
  let e;
  if (
    (e = tr.check('mlock2: flags & ~MLOCK_ONFAULT', (flags & ~MLOCK.ONFAULT) !== 0, Errno.EINVAL))
  )
    return e;
  return doMlock(
    mm,
    addr,
    length,
    VM.LOCKED | ((flags & MLOCK.ONFAULT) !== 0 ? VM.LOCKONFAULT : 0),
  );
}

export function sysMunlock(mm: Mm, addr: bigint, length: bigint): Result<0> {
  mm.tracer.begin('munlock');
  return doMlock(mm, addr, length, 0);
}

/**
 * mm/mlock.c:do_mlock — locked_vm plus the range must fit RLIMIT_MEMLOCK (in pages, the
 * limit rounded down), the range's already-locked pages not counted twice
 * (count_mm_mlocked_page_nr, 4.9: "mm: mlock: check against vma for actual mlock()
 * size"). CAP_IPC_LOCK skips the check.
 */
function withinMemlockLimit(mm: Mm, start: bigint, len: bigint): boolean {
  if (mm.o.rlimitMemlock === undefined) return true;
  const limit = mm.o.rlimitMemlock / BigInt(PAGE);
  let locked = len / BigInt(PAGE) + BigInt(mm.lockedVm);
  if (locked <= limit) return true;
  const end = start + len;
  for (const v of mm.tree) {
    if ((v.flags & VM.LOCKED) === 0) continue;
    const a = BigInt(v.start) > start ? BigInt(v.start) : start;
    const b = BigInt(v.end) < end ? BigInt(v.end) : end;
    if (a < b) locked -= (b - a) / BigInt(PAGE);
  }
  return locked <= limit;
}

/** mm/mlock.c:do_mlock / apply_vma_lock_flags / mlock_fixup. */
export function doMlock(mm: Mm, addr: bigint, length: bigint, lockFlags: number): Result<0> {
  const tr = mm.tracer;
  let e;
  if (lockFlags !== 0 && !canDoMlock(mm)) return tr.fail('do_mlock: !can_do_mlock', Errno.EPERM);
  const lenB = pageAlignU64(length + (addr & 4095n));
  const startB = addr & ~4095n;
  if (lockFlags !== 0 && !withinMemlockLimit(mm, startB, lenB))
    return tr.fail('do_mlock: RLIMIT_MEMLOCK', Errno.ENOMEM);
  const endB = startB + lenB;
  if ((e = tr.check('apply_vma_lock_flags: end < start', endB > U64, Errno.EINVAL))) return e;
  if (lenB === 0n) return ok(0);
  const start = Number(startB);
  const end = Number(endB);
  let vma = mm.tree.lookup(start);
  if ((e = tr.check('apply_vma_lock_flags: no VMA at start', vma === null, Errno.ENOMEM))) return e;
  let tmp = vma!.start;
  while (vma !== null && vma.start < end) {
    if (vma.start !== tmp) return tr.fail('apply_vma_lock_flags: hole', Errno.ENOMEM);
    const tmpEnd = Math.min(vma.end, end);
    const newFlags = (vma.flags & ~VM_LOCKED_MASK) | lockFlags;
    let cur = vma;
    if (newFlags !== vma.flags && (vma.flags & VM_SPECIAL) === 0) {
      const s = Math.max(vma.start, start);
      const was = (vma.flags & VM.LOCKED) !== 0;
      const r = vmaModify(mm, vma, s, tmpEnd, newFlags, vma.uffd);
      if (!r.ok) return r;
      cur = r.value;
      const now = (newFlags & VM.LOCKED) !== 0;
      if (now !== was) mm.lockedVm += ((tmpEnd - s) / PAGE) * (now ? 1 : -1);
    }
    // apply_vma_lock_flags goes on from vma_iter_end(): past a next VMA the piece merged
    // with, which is then no hole.
    tmp = Math.max(tmpEnd, cur.end);
    vma = cur.next;
  }
  if (tmp < end) return tr.fail('apply_vma_lock_flags: range ends in a hole', Errno.ENOMEM);
  // mm/mlock.c:do_mlock — __mm_populate(start, len, 0) stops at the first VMA it cannot
  // populate; __mlock_posix_error_return turns EFAULT into ENOMEM (and ENOMEM into EAGAIN).
  // The VM_LOCKED flags set above stay.
  if ((lockFlags & VM.LOCKED) !== 0 && (lockFlags & VM.LOCKONFAULT) === 0) {
    const r = populate(mm, start, end, false);
    if (!r.ok)
      return tr.fail(
        '__mlock_posix_error_return',
        r.code === 'EFAULT' ? Errno.ENOMEM : Errno.EAGAIN,
      );
  }
  return ok(0);
}
