/**
 * KernelSpace: the AddressSpace interface on the real kernel, confined to one arena.
 * Every address-changing call is checked against the arena before the syscall (ArenaError
 * otherwise). A KernelSpace for a forked child runs its syscalls inside the child
 * (native/process.cc) and reaches the child's memory with process_vm_readv/writev.
 */
import type {
  AddressSpace,
  ChildId,
  FileContents,
  FileId,
  LoadOutcome,
  MapArgs,
  RemapArgs,
  Snapshot,
  SnapshotOptions,
  UffdOptions,
} from '../space/address-space.js';
import {
  MAP,
  MREMAP,
  PAGE_SIZE,
  TASK_SIZE_4LEVEL,
  UFFD_EVENT_FEATURES,
  UFFDIO_REGISTER_MODE,
} from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { err, ok, type Result } from '../space/result.js';
import { native } from '../native.js';
import type { Arena } from './arena.js';
import { requireInt, requireU64 } from './errors.js';
import { RangeSet, type Span } from './ranges.js';
import { NR, sys } from './syscalls.js';
import { snapshot } from './snapshot.js';
import { ownMapCount } from './maps.js';
import { guardedSpan } from '../space/arena-guards.js';
import { createDiskFile, writeTags } from './disk-file.js';
import { loadOutcome } from './load-outcome.js';
import { stackGuardGap } from './stack-guard.js';

const U64_MASK = (1n << 64n) - 1n;

/** PAGE_ALIGN with the kernel's unsigned wrap-around. */
function pageAlign(len: bigint): bigint {
  return (len + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n) & U64_MASK;
}

/**
 * Parameter errors every kernel version rejects before it looks at any VMA (mm/mremap.c:
 * check_mremap_params() since 6.15; the syscall body and mremap_to() before any munmap in
 * older kernels). Such calls cannot change memory, so they pass confinement as they are:
 * their errno is what the user came to see. Unknown flag bits are not in this list, because
 * a patched kernel (RELOCATE_ANON) accepts some.
 */
function rejectedBeforeLookup(a: RemapArgs): boolean {
  const newLen = pageAlign(a.newLen);
  const impliesNewAddr = (a.flags & (MREMAP.FIXED | MREMAP.DONTUNMAP)) !== 0n;
  if (a.addr % PAGE_SIZE !== 0n) return true;
  if (newLen === 0n || newLen > TASK_SIZE_4LEVEL) return true;
  if (!impliesNewAddr) return false;
  if ((a.flags & MREMAP.MAYMOVE) === 0n) return true;
  if (a.newAddr % PAGE_SIZE !== 0n) return true;
  return a.newAddr > TASK_SIZE_4LEVEL - newLen;
}

/**
 * The ranges an mremap call must find as holes, not placeholders: the source is exactly its
 * VMAs and holes (vma_lookup, the multi-VMA walk), the growth room a hole (vma_expandable);
 * a FIXED destination is unmapped by the call itself (mremap_to), while without FIXED,
 * DONTUNMAP takes new_addr as a hint. Also for a call that 6.17+ refuses before the lookup:
 * older kernels (6.1's syscall body) look the source up first and must find the hole.
 * Arena.open clips to the arena, so a parameter-error address outside it opens nothing.
 */
export function remapHoles(a: RemapArgs): Span[] {
  const oldA = pageAlign(a.oldLen);
  const newA = pageAlign(a.newLen);
  const open: Span[] = [{ start: a.addr, end: a.addr + (oldA > newA ? oldA : newA) }];
  if ((a.flags & MREMAP.DONTUNMAP) !== 0n && (a.flags & MREMAP.FIXED) === 0n) {
    open.push(...hintHoles(a.newAddr, newA));
  }
  return open;
}

/**
 * What a hinted placement must see as holes: the range, and above it the stack guard gap,
 * where a placeholder would hide a VM_GROWSDOWN VMA from vm_start_gap() (the kernel takes a
 * hint only if it ends stack_guard_gap below such a VMA).
 */
export function hintHoles(addr: bigint, len: bigint): Span[] {
  return [{ start: addr, end: addr + len + BigInt(stackGuardGap()) * PAGE_SIZE }];
}

export interface KernelSpaceOptions {
  /** 0 (default) for this process, else the pid of a child made by fork(). */
  pid?: number;
  label?: string;
}

export class KernelSpace implements AddressSpace {
  readonly label: string;
  readonly pid: number;
  private readonly files = new Map<FileId, number>();
  private readonly children = new Set<ChildId>();
  /** The current userfaultfd (registrations use it) and every one opened. */
  private uffd = -1;
  private readonly uffds: number[] = [];
  /** A fork child's adopted ranges: in the child's address space, never this process's. */
  private readonly childAdopted: RangeSet | undefined;

  constructor(
    readonly arena: Arena,
    opts: KernelSpaceOptions = {},
  ) {
    this.pid = opts.pid ?? 0;
    this.childAdopted = this.pid ? new RangeSet() : undefined;
    this.label =
      opts.label ?? `kernel ${native.unameRelease()}${this.pid ? ` (child ${this.pid})` : ''}`;
  }

  outsideMapCount(): number {
    const [start, end] = guardedSpan(this.arena.start, this.arena.end);
    return ownMapCount({ start, end });
  }

  private call(nr: number, ...args: bigint[]): Result<bigint> {
    return sys.childSyscall(this.pid, nr, ...args);
  }

  private check(what: string, addr: bigint, length: bigint): void {
    this.arena.check(what, addr, length, this.childAdopted);
  }

  /**
   * Runs one call that may change the arena. In this process the placeholders in `open`
   * (the ranges where the call must find the holes they stand for) come out just before
   * it and every hole it leaves is covered again right after. A fork child has no
   * placeholders (MADV_DONTFORK) and no other threads: its holes are plain holes.
   */
  private changing<T>(open: readonly Span[], run: () => Result<T>): Result<T> {
    if (this.pid) return run();
    this.arena.open(open);
    try {
      return run();
    } finally {
      this.arena.fill();
    }
  }

  map(a: MapArgs): Result<bigint> {
    const addr = requireU64('addr', a.addr);
    const length = requireU64('length', a.length);
    const prot = requireInt('prot', a.prot);
    const flags = requireInt('flags', a.flags);
    const offset = requireU64('offset', a.offset ?? 0n);
    // Only MAP_FIXED replaces what is mapped; a hint or NOREPLACE lands in a free range (or
    // fails), so it cannot change memory outside the arena and is adopted below.
    if ((flags & MAP.FIXED) !== 0) this.check('mmap', addr, pageAlign(length));
    let fd = -1;
    if (a.file !== undefined) {
      const f = this.files.get(a.file);
      if (f === undefined) throw new RangeError(`file ${a.file} was not made by memfd() here`);
      fd = f;
    }
    // MAP_FIXED replaces a placeholder atomically, as it would fill a hole; NOREPLACE and
    // a hint must find the hole itself, and a hint the stack guard gap above it too.
    const open = (flags & MAP.FIXED) !== 0 ? [] : hintHoles(addr, pageAlign(length));
    const r = this.changing(open, () =>
      this.pid
        ? this.call(
            NR.mmap,
            addr,
            length,
            BigInt(prot),
            BigInt(flags),
            BigInt(fd) & U64_MASK,
            offset,
          )
        : sys.mmap(addr, length, prot, flags, fd, offset),
    );
    // A hint the kernel could not honour places the mapping elsewhere: it is ours to release.
    if (r.ok && (flags & MAP.FIXED) === 0) {
      this.arena.adopt(r.value, pageAlign(length), this.childAdopted);
    }
    return r;
  }

  unmap(addr: bigint, length: bigint): Result<0> {
    const len = pageAlign(requireU64('length', length));
    this.check('munmap', requireU64('addr', addr), len);
    // munmap takes placeholders with it, as it would leave holes alone.
    const r = this.changing<unknown>([], () =>
      this.pid ? this.call(NR.munmap, addr, length) : sys.munmap(addr, length),
    );
    if (r.ok) this.arena.disown(addr, len, this.childAdopted);
    return this.zero(r);
  }

  protect(addr: bigint, length: bigint, prot: number): Result<0> {
    const open = this.span('mprotect', addr, length);
    requireInt('prot', prot);
    return this.zero(
      this.changing<unknown>(open, () =>
        this.pid
          ? this.call(NR.mprotect, addr, length, BigInt(prot))
          : sys.mprotect(addr, length, prot),
      ),
    );
  }

  advise(addr: bigint, length: bigint, advice: number): Result<0> {
    const open = this.span('madvise', addr, length);
    requireInt('advice', advice);
    return this.zero(
      this.changing<unknown>(open, () =>
        this.pid
          ? this.call(NR.madvise, addr, length, BigInt(advice))
          : sys.madvise(addr, length, advice),
      ),
    );
  }

  remap(a: RemapArgs): Result<bigint> {
    const addr = requireU64('addr', a.addr);
    const oldLen = requireU64('oldLen', a.oldLen);
    const newLen = requireU64('newLen', a.newLen);
    const newAddr = requireU64('newAddr', a.newAddr);
    const flags = requireU64('flags', a.flags);
    const oldA = pageAlign(oldLen);
    const newA = pageAlign(newLen);
    if (!rejectedBeforeLookup(a)) {
      this.check('mremap source', addr, oldA);
      // Without FIXED the call may grow in place, over [addr, addr+new_len).
      if ((flags & MREMAP.FIXED) === 0n) this.check('mremap in-place range', addr, newA);
      // Without FIXED, new_addr is only get_unmapped_area's hint (mm/mremap.c: mremap_to
      // unmaps the destination only under MREMAP_FIXED, 5.7+ for DONTUNMAP): the kernel
      // places the move in a free range, the hint or elsewhere, and changes nothing that is
      // mapped there. That is a MAYMOVE move's risk, so it is adopted the same way below.
      if ((flags & MREMAP.FIXED) !== 0n) this.check('mremap destination', newAddr, newA);
    }
    const open = remapHoles(a);
    const r = this.changing(open, () =>
      this.pid
        ? this.call(NR.mremap, addr, oldLen, newLen, flags, newAddr)
        : sys.mremap(addr, oldLen, newLen, flags, newAddr),
    );
    if (r.ok) {
      // What the call took away from an adopted source is no longer ours.
      if (r.value !== addr && oldA !== 0n && (flags & MREMAP.DONTUNMAP) === 0n) {
        this.arena.disown(addr, oldA, this.childAdopted);
      } else if (r.value === addr && newA < oldA) {
        this.arena.disown(addr + newA, oldA - newA, this.childAdopted);
      }
      this.arena.adopt(r.value, newA, this.childAdopted);
    }
    return r;
  }

  lock(addr: bigint, length: bigint, flags: number): Result<0> {
    const open = this.span('mlock2', addr, length);
    requireInt('flags', flags);
    return this.zero(
      this.changing<unknown>(open, () =>
        this.pid
          ? this.call(NR.mlock2, addr, length, BigInt(flags))
          : sys.mlock2(addr, length, flags),
      ),
    );
  }

  unlock(addr: bigint, length: bigint): Result<0> {
    const open = this.span('munlock', addr, length);
    return this.zero(
      this.changing<unknown>(open, () =>
        this.pid ? this.call(NR.munlock, addr, length) : sys.munlock(addr, length),
      ),
    );
  }

  seal(addr: bigint, length: bigint): Result<0> {
    const open = this.span('mseal', addr, length);
    return this.zero(
      this.changing<unknown>(open, () =>
        this.pid ? this.call(NR.mseal, addr, length, 0n) : sys.mseal(addr, length),
      ),
    );
  }

  uffdRegister(addr: bigint, length: bigint, opts: UffdOptions = {}): Result<0> {
    const open = this.span('userfaultfd', addr, length);
    // A userfaultfd belongs to the mm that opened it: a child opens its own, which lives
    // and dies with the child. The child's command loop cannot read events, and the kernel
    // would make the child's mremap/munmap wait for an EVENT_* reader: refused there.
    const pid = this.pid;
    if (pid && ((opts.features ?? 0) & UFFD_EVENT_FEATURES) !== 0) return err(Errno.EOPNOTSUPP);
    if (this.uffd < 0 || opts.features !== undefined) {
      const all = opts.kernelFaults === true;
      const features = BigInt(opts.features ?? 0);
      // Earlier ctxs stay open: their registrations last until dispose().
      const fd = pid ? native.childUffdOpen(pid, features, all) : native.uffdOpen(features, all);
      if (!fd.ok) return err(fd.errno);
      this.uffds.push(fd.value);
      this.uffd = fd.value;
    }
    const mode = BigInt(opts.mode ?? UFFDIO_REGISTER_MODE.MISSING);
    const uffd = this.uffd;
    return this.changing(open, () => {
      const r = pid
        ? native.childUffdRegister(pid, uffd, addr, length, mode)
        : native.uffdRegister(uffd, addr, length, mode);
      return r.ok ? ok(0 as const) : err(r.errno);
    });
  }

  memfd(size: bigint, contents?: FileContents): Result<FileId> {
    requireU64('size', size);
    // In a child the file is the child's (its fd table; it goes with the child).
    const fd = this.pid ? this.childMemfd(size) : sys.memfdCreate('mremap-lab');
    if (!fd.ok) return fd;
    // In a child the size was set there; contents are written through the parent's fd only
    // (the fd number is the child's: never closed here).
    if (this.pid && contents !== undefined && contents.size > 0) {
      this.call(NR.close, BigInt(fd.value));
      return err(Errno.EOPNOTSUPP);
    }
    const t = this.pid ? ok(0) : sys.ftruncate(fd.value, size);
    // shmem_write_begin puts each written page in the page cache (shmem_get_folio).
    const w = t.ok && contents ? writeTags(fd.value, contents) : t;
    if (!w.ok) {
      sys.close(fd.value);
      return err(w.errno);
    }
    return ok(this.addFile(fd.value));
  }

  diskFile(size: bigint, contents?: FileContents): Result<FileId> {
    requireU64('size', size);
    if (this.pid) return err(Errno.EOPNOTSUPP);
    const fd = createDiskFile(size, contents);
    return fd.ok ? ok(this.addFile(fd.value)) : fd;
  }

  private addFile(fd: number): FileId {
    const id = this.files.size + 1;
    this.files.set(id, fd);
    return id;
  }

  private childMemfd(size: bigint): Result<number> {
    const fd = native.childMemfd(this.pid);
    if (!fd.ok) return err(fd.errno);
    const t = this.call(NR.ftruncate, fd.value, size);
    if (!t.ok) {
      this.call(NR.close, fd.value);
      return t;
    }
    return ok(Number(fd.value));
  }

  touch(addr: bigint, tag: bigint): Result<0> {
    const page = requireU64('addr', addr) & ~(PAGE_SIZE - 1n);
    this.check('touch', page, 8n);
    return this.zero(sys.writeTag(this.pid, page, requireU64('tag', tag)));
  }

  read(addr: bigint): Result<bigint> {
    this.check('read', requireU64('addr', addr), 8n);
    return sys.readTag(this.pid, addr);
  }

  /**
   * A real load in a fork of the process (native/load.cc): whatever its fault changes stays
   * in that fork, so any address may be loaded, in the arena or not.
   */
  load(addr: bigint): Result<LoadOutcome> {
    const r = sys.loadProbe(this.pid, requireU64('addr', addr));
    return r.ok ? ok(loadOutcome(r.value)) : r;
  }

  fork(): Result<ChildId> {
    if (this.pid) return err(Errno.EOPNOTSUPP);
    const r = sys.forkIdle();
    if (r.ok) this.children.add(r.value);
    return r;
  }

  /** The child's address space: steps "inside the child" run through this. */
  forkSpace(child: ChildId): KernelSpace {
    if (!this.children.has(child))
      throw new RangeError(`child ${child} is not a child of this space`);
    const space = new KernelSpace(this.arena, { pid: child });
    for (const [id, fd] of this.files) space.files.set(id, fd);
    return space;
  }

  release(child: ChildId): Result<0> {
    if (!this.children.delete(child)) return err(Errno.ECHILD);
    return this.zero(sys.releaseChild(child));
  }

  snapshot(start: bigint, end: bigint, opts?: SnapshotOptions): Snapshot {
    return snapshot(this.pid || process.pid, start, end, opts);
  }

  /** Kills and reaps children, closes files. The arena itself is released by its owner. */
  dispose(): void {
    for (const c of this.children) sys.killChild(c);
    this.children.clear();
    if (!this.pid) for (const fd of this.files.values()) sys.close(fd);
    this.files.clear();
    if (!this.pid) for (const fd of this.uffds) native.uffdClose(fd);
    this.uffds.length = 0;
    this.uffd = -1;
  }

  /** Checks [addr, addr+len) against the arena; the range a call must see as it is. */
  private span(what: string, addr: bigint, length: bigint): Span[] {
    const len = pageAlign(requireU64('length', length));
    this.check(what, requireU64('addr', addr), len);
    return [{ start: addr, end: addr + len }];
  }

  private zero(r: Result<unknown>): Result<0> {
    return r.ok ? ok(0) : r;
  }
}
