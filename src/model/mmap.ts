/**
 * mm/mmap.c: do_mmap / __mmap_region, get_unmapped_area, may_expand_vm, mlock_future_ok,
 * install_special_mapping; mm/memfd.c memfd_create.
 */
import { populate } from './fault.js';
import { Mm, PAGE, U64, pageAlignU64 } from './mm.js';
import { PMD, PUD } from './page-tables.js';
import { doMunmap, insertNewRange } from './vma-ops.js';
import { FileObj, VM, Vma } from './vma.js';
import type { FileId, MapArgs } from '../space/address-space.js';
import { MAP, PROT } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { type Result, ok } from '../space/result.js';

/** may_expand_vm: RLIMIT_AS. */
export function mayExpandVm(mm: Mm, pages: number): boolean {
  if (mm.o.rlimitAs === undefined) return true;
  let total = 0;
  for (const v of mm.tree) total += v.pages;
  return BigInt(total + pages) * 4096n <= mm.o.rlimitAs;
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
    if (h + BigInt(len) <= mm.o.taskSize && gapFree(mm, Number(h), len)) {
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

export function doMmap(mm: Mm, args: MapArgs): Result<bigint> {
  const tr = mm.tracer;
  tr.begin('mmap');
  let e;
  let flags = args.flags;
  const offset = args.offset ?? 0n;
  if ((e = tr.check('sys_mmap: offset & ~PAGE_MASK', (offset & 4095n) !== 0n, Errno.EINVAL)))
    return e;
  const anon = (flags & MAP.ANONYMOUS) !== 0;
  let file: FileObj | null = null;
  if (!anon) {
    file = args.file === undefined ? null : (mm.files.get(args.file) ?? null);
    if ((e = tr.check('ksys_mmap_pgoff: fget(fd)', file === null, Errno.EBADF))) return e;
  }
  // mm/mmap.c:ksys_mmap_pgoff — MAP_HUGETLB: only for anonymous memory here (a non-hugetlbfs
  // fd is EINVAL), the size from MAP_HUGE_SHIFT bits (0: default 2 MiB), len rounded up to it.
  let huge = 0;
  let length = args.length;
  if ((flags & MAP.HUGETLB) !== 0) {
    if ((e = tr.check('ksys_mmap_pgoff: MAP_HUGETLB on a non-hugetlbfs fd', !anon, Errno.EINVAL)))
      return e;
    const sizeLog = (flags >>> 26) & 0x3f;
    if (sizeLog !== 0 && sizeLog !== 21 && sizeLog !== 30)
      return tr.fail('ksys_mmap_pgoff: hstate_sizelog', Errno.EINVAL);
    huge = sizeLog === 30 ? PUD : PMD;
    length = ((length + BigInt(huge) - 1n) / BigInt(huge)) * BigInt(huge);
  }
  // mm/mmap.c:do_mmap
  if ((e = tr.check('do_mmap: !len', length === 0n, Errno.EINVAL))) return e;
  if ((flags & MAP.FIXED_NOREPLACE) !== 0) flags |= MAP.FIXED;
  const fixed = (flags & MAP.FIXED) !== 0;
  let addr = args.addr;
  if (!fixed && addr !== 0n && addr < mm.o.mmapMinAddr) addr = pageAlignU64(mm.o.mmapMinAddr);
  const lenB = pageAlignU64(length);
  if ((e = tr.check('do_mmap: PAGE_ALIGN(len) == 0', lenB === 0n, Errno.ENOMEM))) return e;
  const pgoffB = offset >> 12n;
  if (
    (e = tr.check(
      'do_mmap: pgoff + pages overflows',
      pgoffB + (lenB >> 12n) > U64 >> 12n,
      Errno.EOVERFLOW,
    ))
  )
    return e;
  if (
    (e = tr.check(
      'do_mmap: map_count > max_map_count',
      mm.tree.size > mm.o.maxMapCount,
      Errno.ENOMEM,
    ))
  )
    return e;
  // get_unmapped_area
  if ((e = tr.check('get_unmapped_area: len > TASK_SIZE', lenB > mm.o.taskSize, Errno.ENOMEM)))
    return e;
  const len = Number(lenB);
  const type = flags & MAP.SHARED_VALIDATE;
  const shared = type === MAP.SHARED || type === MAP.SHARED_VALIDATE;
  let start: number;
  if (fixed) {
    if (
      (e = tr.check(
        'get_unmapped_area: addr > TASK_SIZE - len',
        addr > mm.o.taskSize - lenB,
        Errno.ENOMEM,
      ))
    )
      return e;
    if (
      (e = tr.check('get_unmapped_area: offset_in_page(addr)', (addr & 4095n) !== 0n, Errno.EINVAL))
    )
      return e;
    if (
      (e = tr.check(
        'security_mmap_addr: addr < mmap_min_addr',
        addr < mm.o.mmapMinAddr,
        Errno.EPERM,
      ))
    )
      return e;
    start = Number(addr);
    // fs/hugetlbfs:hugetlb_get_unmapped_area → prepare_hugepage_range: MAP_FIXED must be
    // huge-page aligned.
    if (huge !== 0 && start % huge !== 0)
      return tr.fail('hugetlb_get_unmapped_area: addr not huge aligned', Errno.EINVAL);
  } else {
    const align =
      huge !== 0
        ? huge
        : mm.profile.thpAlignUnmapped && anon && !shared && len % PMD === 0
          ? PMD
          : PAGE;
    const r = getUnmappedArea(mm, len, addr, align);
    if (!r.ok) return r;
    start = r.value;
  }
  const end = start + len;
  if ((flags & MAP.FIXED_NOREPLACE) !== 0) {
    if (
      (e = tr.check(
        'do_mmap: MAP_FIXED_NOREPLACE and range in use',
        mm.tree.intersection(start, end) !== null,
        Errno.EEXIST,
      ))
    )
      return e;
  }
  if ((flags & MAP.LOCKED) !== 0 && !mlockFutureOk(mm, true, len))
    return tr.fail('do_mmap: mlock_future_ok', Errno.EAGAIN);
  if (type !== MAP.SHARED && type !== MAP.PRIVATE && type !== MAP.SHARED_VALIDATE) {
    return tr.fail('do_mmap: MAP_TYPE', Errno.EINVAL);
  }
  let vmFlags = VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC;
  if ((args.prot & PROT.READ) !== 0) vmFlags |= VM.READ;
  if ((args.prot & PROT.WRITE) !== 0) vmFlags |= VM.WRITE;
  if ((args.prot & PROT.EXEC) !== 0) vmFlags |= VM.EXEC;
  if (shared) vmFlags |= VM.SHARED | VM.MAYSHARE;
  if ((flags & MAP.LOCKED) !== 0) vmFlags |= VM.LOCKED;
  if ((flags & MAP.GROWSDOWN) !== 0 && anon) vmFlags |= VM.GROWSDOWN;
  if ((flags & MAP.NORESERVE) !== 0 && (mm.o.overcommit !== 2 || huge !== 0))
    vmFlags |= VM.NORESERVE;
  // hugetlbfs_file_mmap sets VM_HUGETLB|VM_DONTEXPAND; accountable_mapping skips hugetlb.
  if (huge !== 0) vmFlags |= VM.HUGETLB | VM.DONTEXPAND;
  // mm/vma.c:accountable_mapping — private writable memory without NORESERVE is charged.
  if ((vmFlags & (VM.NORESERVE | VM.SHARED | VM.WRITE | VM.HUGETLB)) === VM.WRITE)
    vmFlags |= VM.ACCOUNT;
  let pgoff: number;
  if (huge !== 0) {
    file = new FileObj(mm.world.nextFile++, 'file', len);
    pgoff = 0;
  } else if (anon && shared) {
    file = new FileObj(mm.world.nextFile++, 'shmem', len);
    pgoff = 0;
  } else if (anon) pgoff = start / PAGE;
  else pgoff = Number(pgoffB);
  // __mmap_region: MAP_FIXED unmaps what was there (sealed → EPERM).
  if (mm.tree.intersection(start, end) !== null) {
    const r = doMunmap(mm, start, end, 'mmap_region: munmap');
    if (!r.ok) return r;
  }
  if (!mayExpandVm(mm, len / PAGE)) return tr.fail('mmap_region: may_expand_vm', Errno.ENOMEM);
  // mm/hugetlb.c:hugetlb_reserve_pages — the whole mapping is reserved at mmap time unless
  // MAP_NORESERVE; too few free huge pages is ENOMEM.
  const reserve = huge === PMD && (vmFlags & VM.NORESERVE) === 0 ? len / PMD : 0;
  if (huge !== 0 && (vmFlags & VM.NORESERVE) === 0 && (huge !== PMD || reserve > mm.hugetlbFree))
    return tr.fail('hugetlb_reserve_pages', Errno.ENOMEM);
  mm.hugetlbFree -= reserve;
  const nv = insertNewRange(mm, start, end, vmFlags, file, pgoff, 'mmap_region');
  // hugetlb_vm_op_split: splits only at huge-page boundaries.
  if (huge !== 0)
    nv.special = { name: '/anon_hugepage (deleted)', refuseSplit: false, splitAlign: huge };
  if ((vmFlags & VM.LOCKED) !== 0) mm.lockedVm += len / PAGE;
  if (
    ((flags & (MAP.POPULATE | MAP.LOCKED)) !== 0 && (flags & MAP.NONBLOCK) === 0) ||
    (flags & MAP.LOCKED) !== 0
  ) {
    populate(mm, start, end);
  }
  return ok(BigInt(start));
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

export function memfdCreate(mm: Mm, size: bigint): Result<FileId> {
  mm.tracer.begin('memfd_create');
  const f = new FileObj(mm.world.nextFile++, 'file', Number(size));
  mm.files.set(f.id, f);
  return ok(f.id);
}
