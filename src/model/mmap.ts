/**
 * mm/mmap.c: do_mmap / __mmap_region, get_unmapped_area, may_expand_vm, mlock_future_ok,
 * install_special_mapping; mm/memfd.c memfd_create; the scenario's files (memfd, disk).
 */
import { filePage, populate } from './fault.js';
import { Mm, PAGE, U64, pageAlignU64 } from './mm.js';
import { PMD, PUD } from './page-tables.js';
import { doMunmap, insertNewRange } from './vma-ops.js';
import { FileObj, VM, Vma } from './vma.js';
import type { FileContents, FileId, MapArgs } from '../space/address-space.js';
import { MAP, PROT } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { ok, type Err, type Result } from '../space/result.js';
import { hugetlbReservePages } from './hugetlb.js';

/** may_expand_vm: RLIMIT_AS. */
export function mayExpandVm(mm: Mm, pages: number): boolean {
  if (mm.o.rlimitAs === undefined) return true;
  let total = 0;
  for (const v of mm.tree) total += v.pages;
  return BigInt(total + pages) * 4096n <= mm.o.rlimitAs;
}

/**
 * mm/mlock.c:can_do_mlock — a task may lock memory when RLIMIT_MEMLOCK is not 0 or it has
 * CAP_IPC_LOCK (rlimitMemlock undefined stands for the capability).
 */
export function canDoMlock(mm: Mm): boolean {
  return mm.o.rlimitMemlock === undefined || mm.o.rlimitMemlock !== 0n;
}

/** mlock_future_ok: RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
export function mlockFutureOk(mm: Mm, locked: boolean, bytes: number): boolean {
  if (!locked || mm.o.rlimitMemlock === undefined) return true;
  return BigInt(mm.lockedVm * PAGE + bytes) <= mm.o.rlimitMemlock;
}

export function gapFree(mm: Mm, start: number, len: number): boolean {
  return mm.tree.intersection(start, start + len) === null;
}

/**
 * include/linux/mm.h:vm_start_gap — since 4.12 (1be7107fbe18, "mm: larger stack guard gap,
 * between vmas") a hint is taken only if it ends at or below the next VMA's start minus
 * stack_guard_gap when that VMA is VM_GROWSDOWN (arch_get_unmapped_area_topdown, and
 * generic_get_unmapped_area_topdown since 6.x). MAP_FIXED and in-place mremap growth
 * (vma_expandable asks get_unmapped_area with MAP_FIXED) do not look at the gap.
 */
function clearOfStackGap(mm: Mm, start: number, len: number): boolean {
  const next = mm.tree.findVma(start);
  if (next === null || (next.flags & VM.GROWSDOWN) === 0) return true;
  const gapStart = Math.max(0, next.start - mm.o.stackGuardGap * PAGE);
  if (start + len <= gapStart) return true;
  mm.tracer.note(
    'get_unmapped_area: hint',
    'refused',
    'inside the stack_guard_gap below a VM_GROWSDOWN VMA',
  );
  return false;
}

/**
 * get_unmapped_area for a non-fixed request: a usable hint wins
 * (arch_get_unmapped_area_topdown), else the placement hook, else a top-down search of the
 * window. align > PAGE for THP-aligned anonymous requests.
 */
export function getUnmappedArea(mm: Mm, len: number, hint: bigint, align: number): Result<number> {
  if (BigInt(len) > mm.o.taskSize)
    return mm.tracer.fail('get_unmapped_area: len > TASK_SIZE', Errno.ENOMEM);
  if (hint !== 0n) {
    let h = hint & ~4095n;
    if (h < mm.o.mmapMinAddr) h = mm.o.mmapMinAddr;
    if (
      h + BigInt(len) <= mm.o.taskSize &&
      gapFree(mm, Number(h), len) &&
      clearOfStackGap(mm, Number(h), len)
    ) {
      mm.tracer.note('get_unmapped_area: hint', 'ok', `0x${h.toString(16)}`);
      return ok(Number(h));
    }
  }
  if (mm.o.placeUnfixed !== undefined) {
    const a = mm.o.placeUnfixed(BigInt(len), BigInt(align));
    if (a === null) return mm.tracer.fail('get_unmapped_area: placeUnfixed', Errno.ENOMEM);
    mm.tracer.note('get_unmapped_area: placeUnfixed', 'ok', `0x${a.toString(16)}`);
    return ok(Number(a));
  }
  const lo = mm.o.windowStart;
  let top = mm.o.windowEnd;
  let v = mm.tree.floor(top - 1);
  for (;;) {
    const gapStart = Math.max(lo, v === null ? lo : v.end);
    let cand = top - len;
    cand -= cand % align;
    if (cand >= gapStart && cand + len <= top) {
      mm.tracer.note('get_unmapped_area: top-down', 'ok', `0x${cand.toString(16)}`);
      return ok(cand);
    }
    if (v === null || v.start <= lo) break;
    top = v.start;
    v = v.prev;
  }
  return mm.tracer.fail('get_unmapped_area: no gap in window', Errno.ENOMEM);
}

/** What ksys_mmap_pgoff resolves before do_mmap: the file, and the MAP_HUGETLB page size. */
interface MmapSource {
  file: FileObj | null;
  /** Huge page size for MAP_HUGETLB, else 0. */
  huge: number;
  /** len, rounded up to the huge page size for MAP_HUGETLB. */
  length: bigint;
}

/**
 * mm/mmap.c:ksys_mmap_pgoff — fget(fd) for a file mapping; MAP_HUGETLB only for anonymous
 * memory here (a non-hugetlbfs fd is EINVAL), the size from MAP_HUGE_SHIFT bits (0: default
 * 2 MiB), len rounded up to it.
 */
function ksysMmapPgoff(mm: Mm, args: MapArgs, anon: boolean): MmapSource | Err {
  const tr = mm.tracer;
  let file: FileObj | null = null;
  if (!anon) {
    file = args.file === undefined ? null : (mm.files.get(args.file) ?? null);
    const e = tr.check('ksys_mmap_pgoff: fget(fd)', file === null, Errno.EBADF);
    if (e !== null) return e;
  }
  if ((args.flags & MAP.HUGETLB) === 0) return { file, huge: 0, length: args.length };
  const e = tr.check('ksys_mmap_pgoff: MAP_HUGETLB on a non-hugetlbfs fd', !anon, Errno.EINVAL);
  if (e !== null) return e;
  const sizeLog = (args.flags >>> 26) & 0x3f;
  if (sizeLog !== 0 && sizeLog !== 21 && sizeLog !== 30)
    return tr.fail('ksys_mmap_pgoff: hstate_sizelog', Errno.EINVAL);
  const huge = sizeLog === 30 ? PUD : PMD;
  const length = ((args.length + BigInt(huge) - 1n) / BigInt(huge)) * BigInt(huge);
  return { file, huge, length };
}

/** do_mmap's checks on the page-aligned length and pgoff, before get_unmapped_area. */
function doMmapLimits(mm: Mm, lenB: bigint, pgoffB: bigint): Err | null {
  const tr = mm.tracer;
  return (
    tr.check('do_mmap: PAGE_ALIGN(len) == 0', lenB === 0n, Errno.ENOMEM) ??
    tr.check(
      'do_mmap: pgoff + pages overflows',
      pgoffB + (lenB >> 12n) > U64 >> 12n,
      Errno.EOVERFLOW,
    ) ??
    tr.check('do_mmap: map_count > max_map_count', mm.mapCount > mm.o.maxMapCount, Errno.ENOMEM) ??
    tr.check('get_unmapped_area: len > TASK_SIZE', lenB > mm.o.taskSize, Errno.ENOMEM)
  );
}

/**
 * get_unmapped_area for MAP_FIXED: the range must fit under TASK_SIZE, be page aligned and
 * pass security_mmap_addr; hugetlbfs (prepare_hugepage_range) wants it huge aligned.
 */
function fixedArea(mm: Mm, addr: bigint, lenB: bigint, huge: number): Result<number> {
  const tr = mm.tracer;
  const e =
    tr.check(
      'get_unmapped_area: addr > TASK_SIZE - len',
      addr > mm.o.taskSize - lenB,
      Errno.ENOMEM,
    ) ??
    tr.check('get_unmapped_area: offset_in_page(addr)', (addr & 4095n) !== 0n, Errno.EINVAL) ??
    tr.check('security_mmap_addr: addr < mmap_min_addr', addr < mm.o.mmapMinAddr, Errno.EPERM);
  if (e !== null) return e;
  const start = Number(addr);
  if (huge !== 0 && start % huge !== 0)
    return tr.fail('hugetlb_get_unmapped_area: addr not huge aligned', Errno.EINVAL);
  return ok(start);
}

/**
 * calc_vm_prot_bits | calc_vm_flag_bits | mm->def_flags | VM_MAY*, then hugetlbfs_file_mmap's
 * VM_HUGETLB|VM_DONTEXPAND and mm/vma.c:accountable_mapping (private writable memory without
 * NORESERVE is charged; hugetlb is not).
 */
function calcVmFlags(
  mm: Mm,
  prot: number,
  flags: number,
  anon: boolean,
  shared: boolean,
  huge: number,
): number {
  let vmFlags = VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC;
  if ((prot & PROT.READ) !== 0) vmFlags |= VM.READ;
  if ((prot & PROT.WRITE) !== 0) vmFlags |= VM.WRITE;
  if ((prot & PROT.EXEC) !== 0) vmFlags |= VM.EXEC;
  if (shared) vmFlags |= VM.SHARED | VM.MAYSHARE;
  if ((flags & MAP.LOCKED) !== 0) vmFlags |= VM.LOCKED;
  if ((flags & MAP.GROWSDOWN) !== 0) vmFlags |= VM.GROWSDOWN;
  if ((flags & MAP.NORESERVE) !== 0 && (mm.o.overcommit !== 2 || huge !== 0))
    vmFlags |= VM.NORESERVE;
  if (huge !== 0) vmFlags |= VM.HUGETLB | VM.DONTEXPAND;
  if ((vmFlags & (VM.NORESERVE | VM.SHARED | VM.WRITE | VM.HUGETLB)) === VM.WRITE)
    vmFlags |= VM.ACCOUNT;
  return vmFlags;
}

/** The new VMA's file and pgoff: hugetlb and MAP_SHARED|MAP_ANONYMOUS get a fresh file. */
function mmapFileAndPgoff(
  mm: Mm,
  src: MmapSource,
  anon: boolean,
  shared: boolean,
  start: number,
  len: number,
  pgoffB: bigint,
): { file: FileObj | null; pgoff: number } {
  if (src.huge !== 0) return { file: new FileObj(mm.world.nextFile++, 'file', len), pgoff: 0 };
  // shmem_zero_setup: a shared anonymous mapping is backed by its own shmem file.
  if (anon && shared) return { file: new FileObj(mm.world.nextFile++, 'shmem', len), pgoff: 0 };
  if (anon) return { file: src.file, pgoff: start / PAGE };
  return { file: src.file, pgoff: Number(pgoffB) };
}

/**
 * mm/vma.c:__mmap_region — MAP_FIXED unmaps what was there (sealed → EPERM), may_expand_vm,
 * hugetlb_reserve_pages, then vma_merge_new_range or a new VMA; MAP_POPULATE/MAP_LOCKED
 * populate afterwards (mm_populate, errors ignored).
 */
function mmapRegion(
  mm: Mm,
  start: number,
  end: number,
  vmFlags: number,
  file: FileObj | null,
  pgoff: number,
  huge: number,
  mapFlags: number,
): Result<bigint> {
  const tr = mm.tracer;
  const len = end - start;
  if (mm.tree.intersection(start, end) !== null) {
    const r = doMunmap(mm, start, end, 'mmap_region: munmap');
    if (!r.ok) return r;
  }
  if (!mayExpandVm(mm, len / PAGE)) return tr.fail('mmap_region: may_expand_vm', Errno.ENOMEM);
  if (huge !== 0) {
    const e = hugetlbReservePages(mm, len, huge, vmFlags);
    if (e !== null) return e;
  }
  const nv = insertNewRange(mm, start, end, vmFlags, file, pgoff, 'mmap_region');
  // hugetlb_vm_op_split: splits only at huge-page boundaries.
  if (huge !== 0)
    nv.special = { name: '/anon_hugepage (deleted)', refuseSplit: false, splitAlign: huge };
  if ((vmFlags & VM.LOCKED) !== 0) mm.lockedVm += len / PAGE;
  if (
    ((mapFlags & (MAP.POPULATE | MAP.LOCKED)) !== 0 && (mapFlags & MAP.NONBLOCK) === 0) ||
    (mapFlags & MAP.LOCKED) !== 0
  ) {
    populate(mm, start, end);
  }
  return ok(BigInt(start));
}

/** mm/mmap.c:do_mmap (with sys_mmap's offset check and ksys_mmap_pgoff before it). */
export function doMmap(mm: Mm, args: MapArgs): Result<bigint> {
  const tr = mm.tracer;
  tr.begin('mmap');
  let e;
  let flags = args.flags;
  const offset = args.offset ?? 0n;
  if ((e = tr.check('sys_mmap: offset & ~PAGE_MASK', (offset & 4095n) !== 0n, Errno.EINVAL)))
    return e;
  const anon = (flags & MAP.ANONYMOUS) !== 0;
  const src = ksysMmapPgoff(mm, args, anon);
  if ('ok' in src) return src;
  const huge = src.huge;
  if ((e = tr.check('do_mmap: !len', src.length === 0n, Errno.EINVAL))) return e;
  if ((flags & MAP.FIXED_NOREPLACE) !== 0) flags |= MAP.FIXED;
  const fixed = (flags & MAP.FIXED) !== 0;
  let addr = args.addr;
  if (!fixed && addr !== 0n && addr < mm.o.mmapMinAddr) addr = pageAlignU64(mm.o.mmapMinAddr);
  const lenB = pageAlignU64(src.length);
  const pgoffB = offset >> 12n;
  if ((e = doMmapLimits(mm, lenB, pgoffB))) return e;
  const len = Number(lenB);
  const type = flags & MAP.SHARED_VALIDATE;
  const shared = type === MAP.SHARED || type === MAP.SHARED_VALIDATE;
  const align =
    huge !== 0
      ? huge
      : mm.profile.thpAlignUnmapped && anon && !shared && len % PMD === 0
        ? PMD
        : PAGE;
  const area = fixed ? fixedArea(mm, addr, lenB, huge) : getUnmappedArea(mm, len, addr, align);
  if (!area.ok) return area;
  const start = area.value;
  const end = start + len;
  if ((flags & MAP.FIXED_NOREPLACE) !== 0) {
    const inUse = mm.tree.intersection(start, end) !== null;
    if ((e = tr.check('do_mmap: MAP_FIXED_NOREPLACE and range in use', inUse, Errno.EEXIST)))
      return e;
  }
  // mm/mmap.c:do_mmap — MAP_LOCKED: can_do_mlock (EPERM) before mlock_future_ok (EAGAIN).
  if ((flags & MAP.LOCKED) !== 0 && !canDoMlock(mm))
    return tr.fail('do_mmap: MAP_LOCKED && !can_do_mlock', Errno.EPERM);
  if ((flags & MAP.LOCKED) !== 0 && !mlockFutureOk(mm, true, len))
    return tr.fail('do_mmap: mlock_future_ok', Errno.EAGAIN);
  if (type !== MAP.SHARED && type !== MAP.PRIVATE && type !== MAP.SHARED_VALIDATE) {
    return tr.fail('do_mmap: MAP_TYPE', Errno.EINVAL);
  }
  // do_mmap: file mappings and MAP_SHARED anonymous ones refuse VM_GROWSDOWN (both branches
  // of the MAP_TYPE switch, unchanged since 2.6).
  if ((flags & MAP.GROWSDOWN) !== 0 && (!anon || shared))
    return tr.fail('do_mmap: VM_GROWSDOWN on a file or shared mapping', Errno.EINVAL);
  const vmFlags = calcVmFlags(mm, args.prot, flags, anon, shared, huge);
  const { file, pgoff } = mmapFileAndPgoff(mm, src, anon, shared, start, len, pgoffB);
  return mmapRegion(mm, start, end, vmFlags, file, pgoff, huge, flags);
}

/** Installs a vdso-like special mapping (VM_DONTEXPAND, refuses splits) for tests. */
export function installSpecialMapping(mm: Mm, addr: bigint, length: bigint, name = '[vdso]'): Vma {
  const v = new Vma(
    Number(addr),
    Number(addr + length),
    VM.READ | VM.EXEC | VM.MAYREAD | VM.MAYEXEC | VM.DONTEXPAND,
    null,
    0,
  );
  v.special = { name, refuseSplit: true };
  mm.tree.insert(v);
  return v;
}

/**
 * mm/memfd.c:memfd_create + ftruncate, then pwrite of `contents`: shmem_write_begin →
 * shmem_get_folio(SGP_WRITE) puts each written page in the page cache; the rest are holes.
 */
export function memfdCreate(mm: Mm, size: bigint, contents?: FileContents): Result<FileId> {
  mm.tracer.begin('memfd_create');
  return ok(newFile(mm, new FileObj(mm.world.nextFile++, 'file', Number(size)), contents));
}

/**
 * A regular file on a disk filesystem (the scenario's file step): every page was written
 * and synced before any mapping, so each is a clean page-cache page — the tag from
 * `contents`, else zeros — and no fault has to read the disk (do_sync_mmap_readahead).
 */
export function diskFileCreate(mm: Mm, size: bigint, contents?: FileContents): Result<FileId> {
  mm.tracer.begin('open(O_CREAT) + pwrite + fsync');
  const f = new FileObj(mm.world.nextFile++, 'file', Number(size), true);
  const all = new Map<number, bigint>();
  for (let p = 0; p < Math.ceil(f.size / PAGE); p++) all.set(p, contents?.get(p) ?? 0n);
  return ok(newFile(mm, f, all));
}

function newFile(mm: Mm, f: FileObj, contents: FileContents | undefined): FileId {
  for (const [p, tag] of contents ?? []) filePage(mm, f, p, true)!.tag = BigInt.asUintN(64, tag);
  mm.files.set(f.id, f);
  return f.id;
}
