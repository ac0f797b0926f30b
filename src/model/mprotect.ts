/** mm/mprotect.c: do_mprotect_pkey / mprotect_fixup. */
import { populate } from './fault.js';
import { Mm, U64, pageAlignU64 } from './mm.js';
import { rangeSealed, vmaModify } from './vma-ops.js';
import { VM } from './vma.js';
import { PROT } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { type Result, ok } from '../space/result.js';

/** include/uapi/asm-generic/mman-common.h. */
const PROT_GROWSDOWN = 0x01000000;
const PROT_GROWSUP = 0x02000000;

export function doMprotectPkey(mm: Mm, addr: bigint, length: bigint, prot: number): Result<0> {
  const tr = mm.tracer;
  tr.begin('mprotect');
  let e;
  // mm/mprotect.c:do_mprotect_pkey — PROT_GROWSDOWN/UP are taken off prot first, both at once
  // is EINVAL before anything else.
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (
    (e = tr.check(
      'do_mprotect_pkey: PROT_GROWSDOWN|PROT_GROWSUP',
      grows === (PROT_GROWSDOWN | PROT_GROWSUP),
      Errno.EINVAL,
    ))
  )
    return e;
  if ((e = tr.check('do_mprotect_pkey: start & ~PAGE_MASK', (addr & 4095n) !== 0n, Errno.EINVAL)))
    return e;
  if (length === 0n) {
    tr.note('do_mprotect_pkey: !len', 'ok');
    return ok(0);
  }
  const len = pageAlignU64(length);
  const endB = (addr + len) & U64;
  if ((e = tr.check('do_mprotect_pkey: end <= start', endB <= addr, Errno.ENOMEM))) return e;
  if (
    (e = tr.check(
      'do_mprotect_pkey: unknown prot bits',
      (prot & ~0x7 & ~0x3000008) !== 0,
      Errno.EINVAL,
    ))
  )
    return e;
  if (addr > mm.o.taskSize) return tr.fail('do_mprotect_pkey: vma_find', Errno.ENOMEM);
  let start = Number(addr);
  const end = Number(endB);
  let vma = mm.tree.findVma(start);
  if ((e = tr.check('do_mprotect_pkey: vma_find', vma === null || vma.start >= end, Errno.ENOMEM)))
    return e;
  if (grows === PROT_GROWSDOWN) {
    // The change reaches down to the VMA's start, which must be VM_GROWSDOWN (since 2.6.10).
    start = vma!.start;
    if (
      (e = tr.check(
        'do_mprotect_pkey: !VM_GROWSDOWN',
        (vma!.flags & VM.GROWSDOWN) === 0,
        Errno.EINVAL,
      ))
    )
      return e;
  } else {
    if ((e = tr.check('do_mprotect_pkey: no VMA at start', vma!.start > start, Errno.ENOMEM)))
      return e;
    // x86 has no VM_GROWSUP (VM_NONE): PROT_GROWSUP is always EINVAL once a VMA is found.
    if ((e = tr.check('do_mprotect_pkey: !VM_GROWSUP', grows === PROT_GROWSUP, Errno.EINVAL)))
      return e;
  }
  if (mm.profile.mseal === 'range' && rangeSealed(mm, start, end))
    return tr.fail('can_modify_mm', Errno.EPERM);
  let tmp = vma!.start;
  const want =
    (prot & PROT.READ ? VM.READ : 0) |
    (prot & PROT.WRITE ? VM.WRITE : 0) |
    (prot & PROT.EXEC ? VM.EXEC : 0);
  while (vma !== null && vma.start < end) {
    if (vma.start !== tmp) return tr.fail('do_mprotect_pkey: hole in range', Errno.ENOMEM);
    const oldFlags = vma.flags;
    let newFlags = (oldFlags & ~(VM.READ | VM.WRITE | VM.EXEC)) | want;
    // VM_MAY* must allow the new bits.
    if ((newFlags & ~(newFlags >> 4) & (VM.READ | VM.WRITE | VM.EXEC)) !== 0)
      return tr.fail('do_mprotect_pkey: VM_MAY*', Errno.EACCES);
    const tmpEnd = Math.min(vma.end, end);
    if (mm.profile.mseal === 'vma' && (oldFlags & VM.SEALED) !== 0)
      return tr.fail('mprotect_fixup: can_modify_vma', Errno.EPERM);
    // mm/mprotect.c:mprotect_fixup — VM_ACCOUNT charge on becoming writable; unfaulted anon unaccounted on losing write (6.3+).
    if (newFlags === oldFlags) {
      tr.note('mprotect_fixup: newflags == oldflags', 'skip');
      tmp = tmpEnd;
      vma = vma.next;
      continue;
    }
    if ((newFlags & VM.WRITE) !== 0) {
      if ((oldFlags & (VM.ACCOUNT | VM.WRITE | VM.HUGETLB | VM.SHARED | VM.NORESERVE)) === 0)
        newFlags |= VM.ACCOUNT;
    } else if (
      mm.profile.mprotectUnaccountUnfaulted &&
      (oldFlags & VM.ACCOUNT) !== 0 &&
      vma.isAnonymous &&
      vma.anonVma === null
    ) {
      newFlags &= ~VM.ACCOUNT;
    }
    const pieceStart = Math.max(vma.start, start);
    const r = vmaModify(mm, vma, pieceStart, tmpEnd, newFlags, vma.uffd);
    if (!r.ok) return r;
    // mm/mprotect.c:mprotect_fixup — a private VM_LOCKED VMA becoming writable is populated
    // at once to break CoW (populate_vma_page_range; its errors are ignored).
    if (
      (oldFlags & (VM.WRITE | VM.SHARED | VM.LOCKED)) === VM.LOCKED &&
      (newFlags & VM.WRITE) !== 0
    )
      populate(mm, pieceStart, tmpEnd);
    // do_mprotect_pkey continues from vma_iter_end(): when the piece merged with the next
    // VMA, that is the merged VMA's end, so the absorbed neighbour is not a "hole".
    tmp = Math.max(tmpEnd, r.value.end);
    vma = r.value.next;
  }
  if (tmp < end) return tr.fail('do_mprotect_pkey: range ends in a hole', Errno.ENOMEM);
  return ok(0);
}
