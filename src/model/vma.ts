/**
 * The model's `struct vm_area_struct`, `struct anon_vma` and the file objects VMAs point at.
 * Bounds are plain numbers (user addresses < 2^47 are exact in a double); the public
 * interface converts to bigint at the edge.
 */

/** include/linux/mm.h VM_* bit values (x86-64, 6.x). */
export const VM = {
  READ: 0x1,
  WRITE: 0x2,
  EXEC: 0x4,
  SHARED: 0x8,
  MAYREAD: 0x10,
  MAYWRITE: 0x20,
  MAYEXEC: 0x40,
  MAYSHARE: 0x80,
  GROWSDOWN: 0x100,
  UFFD_MISSING: 0x200,
  PFNMAP: 0x400,
  /**
   * VM_UFFD_MINOR is a high bit in the kernel (VM_HIGH_ARCH_BIT_... since 5.13); the model
   * borrows 0x800, unused since VM_DENYWRITE went (5.15).
   */
  UFFD_MINOR: 0x800,
  UFFD_WP: 0x1000,
  LOCKED: 0x2000,
  IO: 0x4000,
  SEQ_READ: 0x8000,
  RAND_READ: 0x10000,
  DONTCOPY: 0x20000,
  DONTEXPAND: 0x40000,
  LOCKONFAULT: 0x80000,
  ACCOUNT: 0x100000,
  NORESERVE: 0x200000,
  HUGETLB: 0x400000,
  /**
   * VM_SEALED is a high bit in the kernel (64-bit only, mm/mseal.c, 6.10); the model keeps
   * flags in 32 bits and borrows VM_ARCH_1's position, which anonymous/memfd VMAs never use.
   */
  SEALED: 0x1000000,
  WIPEONFORK: 0x2000000,
  DONTDUMP: 0x4000000,
  SOFTDIRTY: 0x8000000,
  MIXEDMAP: 0x10000000,
  HUGEPAGE: 0x20000000,
  NOHUGEPAGE: 0x40000000,
  MERGEABLE: 0x80000000 | 0,
} as const;

/** include/linux/mm.h VM_SPECIAL. */
export const VM_SPECIAL = VM.IO | VM.DONTEXPAND | VM.PFNMAP | VM.MIXEDMAP;
/** VM_ACCESS_FLAGS: what anon_vma_compatible() lets differ. */
export const VM_ACCESS_FLAGS = VM.READ | VM.WRITE | VM.EXEC;
/** __VM_UFFD_FLAGS: the registration modes a userfaultfd ctx arms a VMA with. */
export const VM_UFFD_FLAGS = VM.UFFD_MISSING | VM.UFFD_WP | VM.UFFD_MINOR;
/** VM_LOCKED_MASK. */
export const VM_LOCKED_MASK = VM.LOCKED | VM.LOCKONFAULT;

/** smaps mnemonics in bit order (fs/proc/task_mmu.c:show_smap_vma_flags). */
export const MNEMONICS: readonly (readonly [number, string])[] = [
  [VM.READ, 'rd'],
  [VM.WRITE, 'wr'],
  [VM.EXEC, 'ex'],
  [VM.SHARED, 'sh'],
  [VM.MAYREAD, 'mr'],
  [VM.MAYWRITE, 'mw'],
  [VM.MAYEXEC, 'me'],
  [VM.MAYSHARE, 'ms'],
  [VM.GROWSDOWN, 'gd'],
  [VM.UFFD_MISSING, 'um'],
  [VM.PFNMAP, 'pf'],
  [VM.UFFD_WP, 'uw'],
  [VM.UFFD_MINOR, 'ui'],
  [VM.LOCKED, 'lo'],
  [VM.IO, 'io'],
  [VM.SEQ_READ, 'sr'],
  [VM.RAND_READ, 'rr'],
  [VM.DONTCOPY, 'dc'],
  [VM.DONTEXPAND, 'de'],
  [VM.LOCKONFAULT, 'lf'],
  [VM.ACCOUNT, 'ac'],
  [VM.NORESERVE, 'nr'],
  [VM.HUGETLB, 'ht'],
  [VM.WIPEONFORK, 'wf'],
  [VM.DONTDUMP, 'dd'],
  [VM.SOFTDIRTY, 'sd'],
  [VM.MIXEDMAP, 'mm'],
  [VM.HUGEPAGE, 'hg'],
  [VM.NOHUGEPAGE, 'nh'],
  [VM.MERGEABLE, 'mg'],
  [VM.SEALED, 'sl'],
];

export function vmFlagMnemonics(flags: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of MNEMONICS) if ((flags & bit) !== 0) out.push(name);
  return out;
}

/** A page of a memfd or shmem object (the page cache). */
export interface FilePage {
  frame: number;
  tag: bigint;
}

/**
 * A struct file: a memfd, the private shmem file of one MAP_SHARED|MAP_ANONYMOUS mmap, or
 * (`disk`) a regular file on a disk filesystem — not shmem (vma_is_shmem false), with every
 * page in the page cache from the start (the scenario's file step writes them all).
 */
export class FileObj {
  readonly pages = new Map<number, FilePage>();
  constructor(
    readonly id: number,
    readonly kind: 'shmem' | 'file',
    public size: number,
    readonly disk = false,
  ) {}
}

let anonVmaIds = 0;

/**
 * struct anon_vma. `parent` and `numChildren` are the fork lineage (mm/rmap.c:anon_vma_fork):
 * a root counts itself, so an unforked anon_vma has numChildren 1.
 */
export class AnonVma {
  readonly id = ++anonVmaIds;
  numChildren = 1;
  constructor(readonly parent: AnonVma | null) {}
}

/** A special mapping (vdso-like): refuses splits and resizes through its vm_ops. */
export interface SpecialOps {
  name: string;
  /** vm_ops->may_split refuses (special_mapping_split → -EINVAL). */
  refuseSplit: boolean;
  /** vm_ops->may_split refuses addresses not aligned to this (hugetlb_vm_op_split, in bytes). */
  splitAlign?: number;
}

/** mm/vma.c:__split_vma asks vm_ops->may_split; false means the split fails with -EINVAL. */
export function maySplit(v: { special: SpecialOps | null }, addr: number): boolean {
  const sp = v.special;
  if (sp === null) return true;
  if (sp.refuseSplit) return false;
  return sp.splitAlign === undefined || addr % sp.splitAlign === 0;
}

export class Vma {
  /** Doubly linked address order, maintained by VmaTree. */
  prev: Vma | null = null;
  next: Vma | null = null;
  /**
   * Length of the anon_vma_chain: 0 unfaulted, 1 own anon_vma, >1 for a fork child
   * (mm/vma.c:vma_is_fork_child tests !list_is_singular).
   */
  chainLen = 0;
  anonVma: AnonVma | null = null;
  /** userfaultfd context identity (vm_userfaultfd_ctx), null when not registered. */
  uffd: number | null = null;
  special: SpecialOps | null = null;

  constructor(
    public start: number,
    public end: number,
    public flags: number,
    public file: FileObj | null,
    /** vm_pgoff, in pages. */
    public pgoff: number,
  ) {}

  get pages(): number {
    return (this.end - this.start) / 4096;
  }

  /** mm.h:vma_is_anonymous — no vm_ops: private anonymous memory. */
  get isAnonymous(): boolean {
    return this.file === null && this.special === null;
  }

  /** A copy for split/copy_vma: flags, file, anon_vma chain (anon_vma_clone), uffd ctx. */
  dup(start: number, end: number, pgoff: number): Vma {
    const v = new Vma(start, end, this.flags, this.file, pgoff);
    v.anonVma = this.anonVma;
    v.chainLen = this.chainLen;
    v.uffd = this.uffd;
    v.special = this.special;
    return v;
  }
}
