/**
 * arch/x86/mm/fault.c:do_user_addr_fault for one 8-byte CPU load: the value it reads, or the
 * signal and si_code it raises. The space keeps its VMAs and page tables (only a file's page
 * cache, which a fork shares, may gain the page read). The kernel side loads
 * in a fork of the process (native/load.cc), so this judges a fork's view (kernel/fork.c:
 * dup_mmap): MADV_DONTFORK VMAs are holes there, MADV_WIPEONFORK ones empty, guard markers
 * come along only where copy_page_range copies (an anon_vma), userfaultfd registration is
 * dropped (dup_userfaultfd without EVENT_FORK), and a private hugetlb VMA no longer owns its
 * reservation (hugetlb_dup_vma_private).
 */
import { filePage } from './fault.js';
import { mayExpandVm } from './mmap.js';
import { Mm, PAGE } from './mm.js';
import { VM, type Vma } from './vma.js';
import type { FaultCode, LoadOutcome } from '../space/address-space.js';
import { ok, type Result } from '../space/result.js';

const SEGV = (code: FaultCode): LoadOutcome => ({ signal: 'SIGSEGV', code });
const BUS: LoadOutcome = { signal: 'SIGBUS', code: 'BUS_ADRERR' };

/** A VMA the fork has (dup_mmap skips VM_DONTCOPY). */
function inFork(v: Vma | null): boolean {
  return v !== null && (v.flags & VM.DONTCOPY) === 0;
}

/** find_vma in the fork: the first VMA ending above addr. */
function nextInFork(mm: Mm, addr: number): Vma | null {
  let v = mm.tree.findVma(addr);
  while (v !== null && !inFork(v)) v = v.next;
  return v;
}

function prevInFork(v: Vma): Vma | null {
  let p = v.prev;
  while (p !== null && !inFork(p)) p = p.prev;
  return p;
}

/** include/linux/mm.h:vma_is_accessible — on x86 any of read, write, exec permits a load. */
function accessible(v: Vma): boolean {
  return (v.flags & (VM.READ | VM.WRITE | VM.EXEC)) !== 0;
}

/**
 * mm/mmap.c:expand_downwards with acct_stack_growth, as lock_mm_and_find_vma (mm/memory.c,
 * 6.5; backported to 6.1.37 with "mm: always expand the stack with the mmap write lock held")
 * calls it for a fault below a VM_GROWSDOWN VMA: refused below mmap_min_addr, when a
 * non-growsdown accessible VMA ends less than stack_guard_gap below the address, past
 * RLIMIT_STACK or RLIMIT_AS. The expansion itself happens in the fork only.
 */
export function expandDownwardsOk(mm: Mm, stack: Vma, addr: number): string | null {
  if (BigInt(addr) < mm.o.mmapMinAddr) return 'expand_downwards: address < mmap_min_addr';
  const prev = prevInFork(stack);
  const gap = mm.o.stackGuardGap * PAGE;
  if (
    prev !== null &&
    (prev.flags & VM.GROWSDOWN) === 0 &&
    accessible(prev) &&
    addr - prev.end < gap
  )
    return `expand_downwards: stack_guard_gap (${mm.o.stackGuardGap} pages) to the VMA below`;
  const size = stack.end - addr;
  if (mm.o.rlimitStack !== undefined && BigInt(size) > mm.o.rlimitStack)
    return 'acct_stack_growth: size > RLIMIT_STACK';
  if (!mayExpandVm(mm, (stack.start - addr) / PAGE)) return 'acct_stack_growth: may_expand_vm';
  return null;
}

export function loadAt(mm: Mm, addr: bigint): Result<LoadOutcome> {
  const tr = mm.tracer;
  tr.begin('load');
  // Kernel addresses: do_kern_addr_fault → bad_area_nosemaphore.
  if (addr >= mm.o.taskSize) {
    tr.note('do_kern_addr_fault', 'SIGSEGV', 'SEGV_MAPERR');
    return ok(SEGV('SEGV_MAPERR'));
  }
  const a = Number(addr & ~4095n);
  const vma = nextInFork(mm, a);
  let expanded = false;
  if (vma === null || vma.start > a) {
    // lock_mm_and_find_vma: no VMA covers a; only a VM_GROWSDOWN VMA above may grow to it.
    const why =
      vma === null || (vma.flags & VM.GROWSDOWN) === 0
        ? 'lock_mm_and_find_vma: no VMA'
        : expandDownwardsOk(mm, vma, a);
    if (why !== null) {
      tr.note(why, 'SIGSEGV', 'bad_area_nosemaphore: SEGV_MAPERR');
      return ok(SEGV('SEGV_MAPERR'));
    }
    tr.note('lock_mm_and_find_vma: expand_stack_locked', 'ok', `to 0x${a.toString(16)}`);
    expanded = true;
  }
  const v = vma!;
  if (!accessible(v)) {
    tr.note('access_error: !vma_is_accessible', 'SIGSEGV', 'bad_area_access_error: SEGV_ACCERR');
    return ok(SEGV('SEGV_ACCERR'));
  }
  if (expanded) return ok({ signal: null, value: 0n });
  const pn = a / PAGE;
  const wiped = (v.flags & VM.WIPEONFORK) !== 0;
  const copied = v.anonVma !== null && !wiped;
  // mm/memory.c:handle_pte_marker — a guard marker is VM_FAULT_SIGSEGV, which
  // mm_fault_error turns into bad_area_nosemaphore: SEGV_MAPERR, not ACCERR.
  if (mm.guards.has(pn) && copied) {
    tr.note('handle_pte_marker: guard', 'SIGSEGV', 'mm_fault_error: SEGV_MAPERR');
    return ok(SEGV('SEGV_MAPERR'));
  }
  const value = (tag: bigint): Result<LoadOutcome> =>
    ok({ signal: null, value: (addr & 4095n) >= 8n ? 0n : tag });
  const pte = wiped ? undefined : mm.ptes.get(pn);
  if (pte !== undefined) return value(pte.fpage !== null ? pte.fpage.tag : pte.tag);
  if ((v.flags & VM.HUGETLB) !== 0) {
    // mm/hugetlb.c:hugetlb_no_page → alloc_hugetlb_folio: without a reservation the fault
    // needs a free unreserved page, else -ENOSPC → vmf_error → VM_FAULT_SIGBUS.
    const reserved = (v.flags & (VM.MAYSHARE | VM.NORESERVE)) === VM.MAYSHARE;
    if (!reserved && mm.hugetlbFree < 1) {
      tr.note('hugetlb_no_page: no free huge page', 'SIGBUS', 'do_sigbus: BUS_ADRERR');
      return ok(BUS);
    }
    return value(0n);
  }
  if (v.file !== null) {
    // mm/shmem.c:shmem_get_folio_gfp: index >= i_size → -EINVAL; shmem_fault → vmf_error →
    // VM_FAULT_SIGBUS; do_sigbus raises BUS_ADRERR. Private (CoW) mappings read the same way.
    const idx = v.pgoff + (a - v.start) / PAGE;
    if (idx >= Math.ceil(v.file.size / PAGE)) {
      tr.note('shmem_fault: index >= i_size', 'SIGBUS', 'do_sigbus: BUS_ADRERR');
      return ok(BUS);
    }
    // The one thing the fork's fault leaves behind: shmem_fault (SGP_CACHE) puts the page in
    // the page cache, which the fork shares with the process (a later fault-around maps it).
    return value(filePage(mm, v.file, idx, true)!.tag);
  }
  return value(0n);
}
