/** mm/mseal.c: do_mseal (6.10). */
import { Mm, U64, pageAlignU64 } from './mm.js';
import { applyFlags } from './vma-ops.js';
import { VM } from './vma.js';
import { Errno } from '../space/errno.js';
import { type Result, ok } from '../space/result.js';

export function doMseal(mm: Mm, addr: bigint, length: bigint): Result<0> {
  const tr = mm.tracer;
  tr.begin('mseal');
  let e;
  if ((e = tr.check('sys_mseal: syscall exists', mm.profile.mseal === 'none', Errno.ENOSYS)))
    return e;
  if ((e = tr.check('do_mseal: offset_in_page(start)', (addr & 4095n) !== 0n, Errno.EINVAL)))
    return e;
  const len = pageAlignU64(length);
  if ((e = tr.check('do_mseal: len_in && !len', length !== 0n && len === 0n, Errno.EINVAL)))
    return e;
  const endB = addr + len;
  if ((e = tr.check('do_mseal: end < start', endB > U64, Errno.EINVAL))) return e;
  if (len === 0n) return ok(0);
  const start = Number(addr);
  const end = Number(endB);
  // mm/mseal.c:range_contains_unmapped — the whole range must be mapped.
  let tmp = start;
  for (let v = mm.tree.findVma(start); v !== null && v.start < end; v = v.next) {
    if (v.start > tmp) break;
    tmp = v.end;
  }
  if ((e = tr.check('do_mseal: range_contains_unmapped', tmp < end, Errno.ENOMEM))) return e;
  return applyFlags(
    mm,
    start,
    end,
    'mseal_apply',
    (v) => ({ flags: v.flags | VM.SEALED, uffd: v.uffd }),
    Errno.ENOMEM,
    true,
  );
}
