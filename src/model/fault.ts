/**
 * mm/memory.c:handle_mm_fault for one page (anonymous, zero page, CoW, shmem/page cache,
 * THP, fault-around) and mm/gup.c:__mm_populate; the user accesses touch and read.
 */
import { hugetlbFault } from './hugetlb.js';
import { HUGE_ZERO_FRAME, Mm, PAGE, U64, ZERO_FRAME, floorPmd, floorPud } from './mm.js';
import { PMD } from './page-tables.js';
import { dropPte, ensureTables } from './pgtable.js';
import { anonVmaPrepare } from './rmap.js';
import { FileObj, type FilePage, VM, Vma } from './vma.js';
import { Errno } from '../space/errno.js';
import { type Err, type Result, ok } from '../space/result.js';
import type { Pte } from './mm.js';
import { mapLargeFolio } from './pgtable.js';

/** THP eligibility of an anonymous private fault (thp mode, VM_(NO)HUGEPAGE, slot fits). */
export function thpEligible(mm: Mm, vma: Vma, addr: number): boolean {
  if (!vma.isAnonymous || (vma.flags & VM.NOHUGEPAGE) !== 0) return false;
  if (mm.o.thp === 'never') return false;
  if (mm.o.thp === 'madvise' && (vma.flags & VM.HUGEPAGE) === 0) return false;
  const slot = floorPmd(addr);
  return (
    slot >= vma.start &&
    slot + PMD <= vma.end &&
    !mm.pt.pteTables.has(slot) &&
    !mm.pt.hugePmds.has(slot)
  );
}

export function fileIndex(mm: Mm, vma: Vma, addr: number): number {
  return vma.pgoff + (addr - vma.start) / PAGE;
}

export function filePage(mm: Mm, file: FileObj, index: number, create: boolean): FilePage | null {
  let fp = file.pages.get(index);
  if (fp === undefined && create) {
    fp = { frame: mm.world.newFrames(1), tag: 0n };
    mm.world.refs.delete(fp.frame);
    file.pages.set(index, fp);
  }
  return fp ?? null;
}

/**
 * mm/memory.c:do_fault_around (since 3.15; mm window arithmetic from 6.4): a read fault
 * on a file-backed VMA also maps the neighbouring pages already in the page cache, over
 * fault_around_bytes (64 KiB) aligned down, clamped to the VMA and to the PTE table.
 */
export function faultAround(mm: Mm, vma: Vma, addr: number): void {
  const nr = mm.o.traits.faultAroundPages;
  if (nr <= 1 || vma.file === null) return;
  // should_fault_around → uffd_disable_fault_around (in 6.1 and later): none in a WP- or
  // MINOR-armed VMA, whose every page must fault on its own.
  if ((vma.flags & (VM.UFFD_WP | VM.UFFD_MINOR)) !== 0) return;
  const pteOff = (addr / PAGE) % 512;
  const vmaOff = (addr - vma.start) / PAGE;
  const from = Math.max(pteOff - (pteOff % nr), pteOff - Math.min(pteOff, vmaOff));
  const to = Math.min(from + nr, 512, pteOff + vma.pages - vmaOff);
  const eofPages = Math.ceil(vma.file.size / PAGE);
  for (let i = from; i < to; i++) {
    const a = addr + (i - pteOff) * PAGE;
    const pn = a / PAGE;
    if (mm.ptes.has(pn) || mm.guards.has(pn)) continue;
    const idx = fileIndex(mm, vma, a);
    if (idx >= eofPages) continue;
    const fp = filePage(mm, vma.file, idx, false);
    if (fp === null) continue; // filemap_map_pages maps only pages already cached
    mm.ptes.set(pn, { frame: fp.frame, tag: 0n, fpage: fp, zero: false, thp: false });
  }
}

/**
 * handle_mm_fault for one page: write → anon_vma_prepare + private copy
 * (do_anonymous_page / do_wp_page / do_cow_fault) or a page-cache write for shared
 * mappings; read → zero page (anon) or page-cache page. Returns EFAULT for SIGSEGV/SIGBUS.
 */
export function fault(
  mm: Mm,
  vma: Vma,
  addr: number,
  write: boolean,
  tag: bigint | null,
): Result<0> {
  if ((vma.flags & VM.HUGETLB) !== 0) return hugetlbFault(mm, vma, addr, write, tag);
  const pn = addr / PAGE;
  // mm/memory.c:handle_pte_marker — a guard marker faults with VM_FAULT_SIGSEGV.
  if (mm.guards.has(pn)) return mm.tracer.fail('fault: guard region (SIGSEGV)', Errno.EFAULT);
  const pte = mm.ptes.get(pn);
  if (vma.file !== null) {
    const idx = fileIndex(mm, vma, addr);
    if (idx >= Math.ceil(vma.file.size / PAGE))
      return mm.tracer.fail('fault: beyond EOF (SIGBUS)', Errno.EFAULT);
  }
  const minor = handleUserfaultMinor(mm, vma, addr, pte);
  if (minor !== null) return minor;
  const missing = handleUserfaultMissing(mm, vma, addr, write, pte);
  if (missing !== null) return missing;
  if (!write) return pte !== undefined ? ok(0) : doReadFault(mm, vma, addr);
  // mm/memory.c:do_cow_fault — a write fault on a private file mapping first reads the
  // page through __do_fault (shmem_fault puts it in the page cache), then copies it: the
  // private page starts with the file's data, and the cache keeps the page. do_shared_fault
  // writes the cached page itself, so a write without new data (MADV_POPULATE_WRITE, e.g.
  // in a fork child, whose shared PTEs dup_mmap did not copy) keeps what the file holds.
  const cached =
    vma.file !== null && pte === undefined
      ? filePage(mm, vma.file, fileIndex(mm, vma, addr), true)
      : null;
  const newTag =
    tag ?? (pte === undefined ? (cached?.tag ?? 0n) : pte.fpage !== null ? pte.fpage.tag : pte.tag);
  if ((vma.flags & VM.SHARED) !== 0) return doSharedFault(mm, vma, addr, pte, tag);
  return doPrivateWrite(mm, vma, addr, pte, newTag);
}

/**
 * mm/shmem.c:shmem_get_folio_gfp — in a MINOR-armed VMA a page found in the page cache
 * raises a MINOR userfault instead of being mapped (5.14; an uncached page takes the
 * MISSING path). EFAULT here as for MISSING: the tool's accesses come from the kernel.
 */
function handleUserfaultMinor(mm: Mm, vma: Vma, addr: number, pte: Pte | undefined): Err | null {
  if (pte !== undefined || (vma.flags & VM.UFFD_MINOR) === 0 || vma.file === null) return null;
  if (filePage(mm, vma.file, fileIndex(mm, vma, addr), false) === null) return null;
  return mm.tracer.fail('fault: userfaultfd MINOR would block', Errno.EFAULT);
}

/**
 * A MISSING userfault is raised where there is nothing to map: an empty PTE of anonymous
 * memory (do_anonymous_page), or for shmem a page absent from the page cache
 * (mm/shmem.c:shmem_get_folio_gfp) — a cached page is mapped without one.
 */
function handleUserfaultMissing(
  mm: Mm,
  vma: Vma,
  addr: number,
  write: boolean,
  pte: Pte | undefined,
): Err | null {
  if (
    pte !== undefined ||
    (vma.flags & VM.UFFD_MISSING) === 0 ||
    (vma.file !== null && filePage(mm, vma.file, fileIndex(mm, vma, addr), false) !== null)
  )
    return null;
  // do_anonymous_page calls vmf_anon_prepare before a write fault's userfault (a read
  // takes the zero-page branch first), do_huge_pmd_anonymous_page before either: the
  // failed fault still leaves the VMA an anon_vma, which fork and merges then see.
  if (vma.isAnonymous && (write || !mm.o.traits.zeroPage || thpEligible(mm, vma, addr)))
    anonVmaPrepare(mm, vma);
  return mm.tracer.fail('fault: userfaultfd MISSING would block', Errno.EFAULT);
}

/**
 * A read fault on an empty PTE: do_read_fault (page cache, with fault-around) for files;
 * for anonymous memory the zero page (do_anonymous_page), or the huge zero page
 * (do_huge_pmd_anonymous_page) where a THP fits.
 */
function doReadFault(mm: Mm, vma: Vma, addr: number): Result<0> {
  const pn = addr / PAGE;
  const traits = mm.o.traits;
  if (vma.file !== null) {
    const fp = filePage(mm, vma.file, fileIndex(mm, vma, addr), true)!;
    mm.ptes.set(pn, { frame: fp.frame, tag: 0n, fpage: fp, zero: false, thp: false });
    faultAround(mm, vma, addr);
  } else if (
    thpEligible(mm, vma, addr) ? !(traits.zeroPage && traits.hugeZeroPage) : !traits.zeroPage
  ) {
    // mm/memory.c:do_anonymous_page and huge_memory.c:do_huge_pmd_anonymous_page take
    // the zero page only when !mm_forbids_zeropage() (and, for the huge one,
    // use_zero_page); otherwise a read fault allocates as a write fault does — an
    // exclusive zero-filled page (or THP) with vmf_anon_prepare().
    return fault(mm, vma, addr, true, 0n);
  } else if (thpEligible(mm, vma, addr)) {
    // do_huge_pmd_anonymous_page read fault: the huge zero page — after vmf_anon_prepare
    // (anon_vma_prepare since 2.6.38), so the VMA gets an anon_vma and fork copies the PMD.
    anonVmaPrepare(mm, vma);
    const slot = floorPmd(addr);
    mm.pt.pmdTables.add(floorPud(addr));
    mm.pt.hugePmds.add(slot);
    mapLargeFolio(mm, slot, 512, HUGE_ZERO_FRAME, true);
    return ok(0);
  } else {
    mm.ptes.set(pn, { frame: ZERO_FRAME, tag: 0n, fpage: null, zero: true, thp: false });
  }
  ensureTables(mm, addr);
  return ok(0);
}

/** mm/memory.c:do_shared_fault — the write goes to the page-cache page itself. */
function doSharedFault(
  mm: Mm,
  vma: Vma,
  addr: number,
  pte: Pte | undefined,
  tag: bigint | null,
): Result<0> {
  const fp = filePage(mm, vma.file!, fileIndex(mm, vma, addr), true)!;
  // A write without data (MADV_POPULATE_WRITE) maps the cached page as it is.
  if (tag !== null) fp.tag = tag;
  if (pte === undefined)
    mm.ptes.set(addr / PAGE, { frame: fp.frame, tag: 0n, fpage: fp, zero: false, thp: false });
  ensureTables(mm, addr);
  return ok(0);
}

/**
 * A private write: in place on an exclusive anonymous page (wp_page_reuse), else a new page
 * after anon_vma_prepare — a fresh THP where one fits (do_huge_pmd_anonymous_page) or over
 * the huge zero page (do_huge_zero_wp_pmd, 6.13), else one page (do_anonymous_page,
 * wp_page_copy, do_cow_fault), splitting a huge PMD it lands in.
 */
function doPrivateWrite(
  mm: Mm,
  vma: Vma,
  addr: number,
  pte: Pte | undefined,
  newTag: bigint,
): Result<0> {
  const pn = addr / PAGE;
  if (pte !== undefined && pte.fpage === null && !pte.zero && mm.world.refs.get(pte.frame) === 1) {
    pte.tag = newTag;
    // A write dirties a lazily freed page: shrink_folio_list keeps it (folio_mark_dirty).
    pte.lazy = false;
    return ok(0);
  }
  anonVmaPrepare(mm, vma);
  const slot = floorPmd(addr);
  if (pte === undefined && thpEligible(mm, vma, addr)) {
    mm.pt.pmdTables.add(floorPud(addr));
    mm.pt.hugePmds.add(slot);
    return mapFreshThp(mm, slot, pn, newTag);
  }
  if (pte?.zero === true && mm.pt.hugePmds.has(slot) && mm.profile.hugeZeroWpAllocatesThp) {
    // mm/huge_memory.c:do_huge_zero_wp_pmd (6.13): the huge zero PMD becomes a fresh THP.
    return mapFreshThp(mm, slot, pn, newTag);
  }
  // A write into a PMD-mapped THP we cannot write in place (huge zero page before 6.13,
  // CoW): split the PMD.
  if (mm.pt.hugePmds.delete(slot)) mm.pt.pteTables.add(slot);
  const frame = mm.world.newFrames(1);
  if (pte !== undefined) dropPte(mm, pn, pte);
  mm.ptes.set(pn, { frame, tag: newTag, fpage: null, zero: false, thp: false });
  ensureTables(mm, addr);
  return ok(0);
}

/** A new anonymous THP in a PMD slot whose huge PMD is set; page pn gets the written tag. */
export function mapFreshThp(mm: Mm, slot: number, pn: number, tag: bigint): Result<0> {
  mapLargeFolio(mm, slot, 512, mm.world.newFrames(512), false);
  mm.ptes.get(pn)!.tag = tag;
  return ok(0);
}

/**
 * mm/gup.c:__mm_populate over [start, end), one populate_vma_page_range per VMA:
 * VM_IO/VM_PFNMAP and VM_LOCKONFAULT VMAs are skipped; private writable VMAs take write
 * faults (breaking CoW), others read faults. A VMA without access gets no FOLL_FORCE, so
 * GUP fails there (EFAULT), as does a fault past a file's end (SIGBUS). mm_populate
 * (ignoreErrors) goes on with the next VMA; mlock's __mm_populate(…, 0) stops at the first.
 */
export function populate(mm: Mm, start: number, end: number, ignoreErrors = true): Result<0> {
  for (let v = mm.tree.findVma(start); v !== null && v.start < end; v = v.next) {
    if ((v.flags & (VM.IO | VM.PFNMAP | VM.LOCKONFAULT)) !== 0) continue;
    const r = populateVma(mm, v, Math.max(v.start, start), Math.min(v.end, end));
    if (!r.ok && !ignoreErrors) return r;
  }
  return ok(0);
}

/** populate_vma_page_range → __get_user_pages for one VMA (stops at the first failure). */
export function populateVma(mm: Mm, v: Vma, s: number, e: number): Result<0> {
  if ((v.flags & (VM.READ | VM.WRITE | VM.EXEC)) === 0)
    return mm.tracer.fail('populate_vma_page_range: check_vma_flags', Errno.EFAULT);
  const write = (v.flags & (VM.WRITE | VM.SHARED)) === VM.WRITE;
  for (let a = s; a < e; a += PAGE) {
    const pte = mm.ptes.get(a / PAGE);
    if (
      pte !== undefined &&
      (!write ||
        (pte.fpage === null && !pte.zero && mm.world.refs.get(pte.frame) === 1) ||
        (v.flags & VM.SHARED) !== 0)
    )
      continue;
    const r = fault(mm, v, a, write, null);
    if (!r.ok) return r;
  }
  return ok(0);
}

/**
 * The checks a user access passes before handle_mm_fault does anything (arch/x86/mm/fault.c:
 * a VMA must cover the address, then access_error()): else SIGSEGV, reported as EFAULT.
 */
export function accessVma(mm: Mm, addr: bigint, op: string, need: number, what: string): Vma | Err {
  const tr = mm.tracer;
  tr.begin(op);
  const vma = addr > mm.o.taskSize ? null : mm.tree.lookup(Number(addr & ~4095n));
  return (
    tr.check('handle_mm_fault: no VMA (SIGSEGV)', vma === null, Errno.EFAULT) ??
    tr.check(`access_error: !${what} (SIGSEGV)`, (vma!.flags & need) === 0, Errno.EFAULT) ??
    vma!
  );
}

export function touchPage(mm: Mm, addr: bigint, tag: bigint): Result<0> {
  const vma = accessVma(mm, addr, 'touch', VM.WRITE, 'VM_WRITE');
  if ('ok' in vma) return vma;
  return fault(mm, vma, Number(addr & ~4095n), true, tag & U64);
}

export function readPage(mm: Mm, addr: bigint): Result<bigint> {
  // vma_is_accessible: on x86 any of read/write/exec permits a load.
  const vma = accessVma(mm, addr, 'read', VM.READ | VM.WRITE | VM.EXEC, 'VM_READ');
  if ('ok' in vma) return vma;
  const a = Number(addr & ~4095n);
  const r = fault(mm, vma, a, false, null);
  if (!r.ok) return r;
  const pte = mm.ptes.get(a / PAGE)!;
  if ((addr & 4095n) >= 8n) return ok(0n);
  return ok(pte.fpage !== null ? pte.fpage.tag : pte.tag);
}
