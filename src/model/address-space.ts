/**
 * ModelSpace: the reference model of one process address space behind the shared
 * AddressSpace interface — a thin facade over one Mm (mm.ts, ≙ struct mm_struct). Each call
 * goes to the module named after the kernel file that implements it (mmap.ts, mprotect.ts,
 * madvise.ts, mremap/, …); see README.md for the table.
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
import { Errno } from '../space/errno.js';
import { ok, type Result } from '../space/result.js';
import { readPage, touchPage } from './fault.js';
import { loadAt } from './load.js';
import { dupMmap, exitMmap, optionsForChild } from './fork.js';
import { doMadvise } from './madvise.js';
import { sysMlock2, sysMunlock } from './mlock.js';
import { Mm, World, type ModelSpaceOptions, type Pte } from './mm.js';
import { diskFileCreate, doMmap, installSpecialMapping, memfdCreate } from './mmap.js';
import { doMprotectPkey } from './mprotect.js';
import { doMremap } from './mremap/index.js';
import { doMseal } from './mseal.js';
import type { Profile } from './profiles.js';
import { snapshotRange } from './snapshot.js';
import type { OpTrace } from './trace.js';
import { userfaultfdApi, userfaultfdRegister } from './userfaultfd.js';
import type { Vma } from './vma.js';
import type { VmaTree } from './vma-tree.js';
import { sysMunmap } from './vma-ops.js';

export { PAGE, World, pageAlignU64 } from './mm.js';
export type { ModelSpaceOptions, Pte, ThpMode } from './mm.js';
export { anonVmaCompatible } from './rmap.js';

export class ModelSpace implements AddressSpace {
  readonly label: string;
  readonly profile: Profile;
  /** @internal the mm_struct every model module works on */
  readonly mm: Mm;
  private readonly children = new Map<ChildId, ModelSpace>();

  constructor(opts: ModelSpaceOptions = {}, world?: World) {
    this.mm = new Mm(opts, world);
    this.profile = this.mm.profile;
    this.label = `model ${this.profile.name}`;
  }

  /** The trace of the last operation (checks and, for moves, page-table plans). */
  get lastTrace(): OpTrace {
    return this.mm.tracer.current;
  }

  /** mm->map_count. */
  get mapCount(): number {
    return this.mm.mapCount;
  }

  /** mm->locked_vm in pages (with the 6.15+ DONTUNMAP leak). */
  get lockedVm(): number {
    return this.mm.lockedVm;
  }

  /** Free 2 MiB huge pages not reserved (the pool is system-wide; children share the count). */
  get hugetlbFree(): number {
    return this.mm.hugetlbFree;
  }

  /** @internal mm->mm_mt (for invariant tests). */
  get tree(): VmaTree {
    return this.mm.tree;
  }

  /** @internal page number → PTE (for invariant tests). */
  get ptes(): ReadonlyMap<number, Pte> {
    return this.mm.ptes;
  }

  /** All VMAs in address order (live objects: do not mutate). */
  vmas(): Vma[] {
    return [...this.mm.tree];
  }

  map(args: MapArgs): Result<bigint> {
    return doMmap(this.mm, args);
  }

  unmap(addr: bigint, length: bigint): Result<0> {
    return sysMunmap(this.mm, addr, length);
  }

  protect(addr: bigint, length: bigint, prot: number): Result<0> {
    return doMprotectPkey(this.mm, addr, length, prot);
  }

  advise(addr: bigint, length: bigint, advice: number): Result<0> {
    return doMadvise(this.mm, addr, length, advice);
  }

  remap(args: RemapArgs): Result<bigint> {
    this.mm.tracer.begin('mremap');
    return doMremap(this.mm, args);
  }

  lock(addr: bigint, length: bigint, flags: number): Result<0> {
    return sysMlock2(this.mm, addr, length, flags);
  }

  unlock(addr: bigint, length: bigint): Result<0> {
    return sysMunlock(this.mm, addr, length);
  }

  seal(addr: bigint, length: bigint): Result<0> {
    return doMseal(this.mm, addr, length);
  }

  uffdRegister(addr: bigint, length: bigint, opts: UffdOptions = {}): Result<0> {
    if (opts.features !== undefined) {
      const api = userfaultfdApi(this.mm, opts.features, opts.kernelFaults === true);
      if (!api.ok) return api;
    }
    return userfaultfdRegister(this.mm, addr, length, opts.mode, opts.kernelFaults === true);
  }

  memfd(size: bigint, contents?: FileContents): Result<FileId> {
    return memfdCreate(this.mm, size, contents);
  }

  diskFile(size: bigint, contents?: FileContents): Result<FileId> {
    return diskFileCreate(this.mm, size, contents);
  }

  touch(addr: bigint, tag: bigint): Result<0> {
    return touchPage(this.mm, addr, tag);
  }

  read(addr: bigint): Result<bigint> {
    return readPage(this.mm, addr);
  }

  load(addr: bigint): Result<LoadOutcome> {
    return loadAt(this.mm, addr);
  }

  /** fork() that returns the child's ModelSpace (kernel/fork.c:dup_mm → dup_mmap). */
  forkSpace(): ModelSpace {
    this.mm.tracer.begin('fork');
    const child = new ModelSpace(optionsForChild(this.mm), this.mm.world);
    dupMmap(child.mm, this.mm);
    return child;
  }

  fork(): Result<ChildId> {
    const child = this.forkSpace();
    const id = this.mm.world.nextChild++;
    this.children.set(id, child);
    return ok(id);
  }

  /** The ModelSpace of a child made by fork(), to continue steps inside it. */
  child(id: ChildId): ModelSpace | undefined {
    return this.children.get(id);
  }

  release(child: ChildId): Result<0> {
    this.mm.tracer.begin('release');
    const c = this.children.get(child);
    if (c === undefined) return this.mm.tracer.fail('release: no such child', Errno.ESRCH);
    c.exit();
    this.children.delete(child);
    return ok(0);
  }

  /** exit_mmap, then the children this process forked. */
  exit(): void {
    if (this.mm.dead) return;
    exitMmap(this.mm);
    for (const c of this.children.values()) c.exit();
  }

  /** Installs a vdso-like special mapping (VM_DONTEXPAND, refuses splits) for tests. */
  installSpecialMapping(addr: bigint, length: bigint, name = '[vdso]'): Vma {
    return installSpecialMapping(this.mm, addr, length, name);
  }

  learnOutsideMapCount(n: number): void {
    this.mm.o.otherMapCount = n;
  }

  snapshot(start: bigint, end: bigint, opts?: SnapshotOptions): Snapshot {
    return snapshotRange(this.mm, start, end, opts);
  }
}
