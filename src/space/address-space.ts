/**
 * The interface a scenario drives, implemented twice: KernelSpace (src/kernel/, real
 * syscalls inside an arena) and ModelSpace (src/model/, the reference model). Addresses are
 * absolute user virtual addresses as bigint, exactly the values the syscall would get, so
 * alignment to PMD/PUD boundaries means the same thing on both sides. Lengths and flags are
 * passed through unfiltered (u64 arithmetic, any flag bits): checking them is the point.
 */
import type { Result } from './result.js';

export interface MapArgs {
  addr: bigint;
  length: bigint;
  /** PROT_* bits. */
  prot: number;
  /** Raw MAP_* bits (MAP_PRIVATE/SHARED, ANONYMOUS, FIXED, FIXED_NOREPLACE, NORESERVE, POPULATE, LOCKED…). */
  flags: number;
  /** A file made by memfd(); absent for anonymous mappings. */
  file?: FileId;
  /** Byte offset into the file. */
  offset?: bigint;
}

export interface RemapArgs {
  addr: bigint;
  oldLen: bigint;
  newLen: bigint;
  /**
   * The full `unsigned long flags`: MREMAP_* and anything else (bits the kernel does not
   * know are the test, bit 32 and above included).
   */
  flags: bigint;
  /** Fifth argument; ignored by the kernel unless FIXED or DONTUNMAP. */
  newAddr: bigint;
}

/** Opaque handle of a memfd file, valid in the space that created it. */
export type FileId = number;

/** Opaque handle of a forked child process (kernel) or child address space (model). */
export type ChildId = number;

export interface AddressSpace {
  /** Human-readable description: "kernel 6.18.44" or "model linux-6.18". */
  readonly label: string;

  map(args: MapArgs): Result<bigint>;
  unmap(addr: bigint, length: bigint): Result<0>;
  protect(addr: bigint, length: bigint, prot: number): Result<0>;
  advise(addr: bigint, length: bigint, advice: number): Result<0>;
  remap(args: RemapArgs): Result<bigint>;
  /** mlock2(addr, len, flags). */
  lock(addr: bigint, length: bigint, flags: number): Result<0>;
  unlock(addr: bigint, length: bigint): Result<0>;
  /** mseal(addr, len, 0). ENOSYS where the kernel lacks it. */
  seal(addr: bigint, length: bigint): Result<0>;
  /** Registers the range with a userfaultfd in MISSING mode (no EVENT_REMAP). */
  /** kernelFaults: the userfaultfd, when this call opens it, is without UFFD_USER_MODE_ONLY. */
  uffdRegister(addr: bigint, length: bigint, opts?: { kernelFaults?: boolean }): Result<0>;
  /** memfd_create + ftruncate(size). */
  memfd(size: bigint): Result<FileId>;

  /** Write fault: stores the 8-byte tag at the start of the page containing addr. */
  touch(addr: bigint, tag: bigint): Result<0>;
  /** Read fault: returns the 8-byte value at addr (0 for a fresh anonymous page). */
  read(addr: bigint): Result<bigint>;

  /** fork(); the child idles (its VMAs share the parent's anon_vmas) until released. */
  fork(): Result<ChildId>;
  /** Ends an idle child (kill + reap). */
  release(child: ChildId): Result<0>;

  /** What the space looks like in [start, end). */
  snapshot(start: bigint, end: bigint, opts?: SnapshotOptions): Snapshot;
}

export interface SnapshotOptions {
  /** Read per-page state (presence, tags, frames). Default true. */
  pages?: boolean;
  /** Decode VmFlags (kernel: smaps, which is slower). Default false. */
  vmFlags?: boolean;
}

export type MappingKind = 'anon' | 'shmem' | 'file';

export interface VmaView {
  start: bigint;
  end: bigint;
  /** 'rw-' style. */
  prot: string;
  shared: boolean;
  kind: MappingKind;
  /** Byte offset into the file, as /proc/pid/maps shows it (0 for private anonymous). */
  offset: bigint;
  /** smaps VmFlags mnemonics ('rd', 'wr', 'ac', 'lo' …), when asked for. */
  vmFlags?: readonly string[];
}

export interface PageView {
  /** Page address. */
  addr: bigint;
  present: boolean;
  /**
   * Frame identity, stable within one space across snapshots: the PFN on the kernel side
   * (when visible), a frame number in the model. null when not present or not visible.
   * Never compared across spaces directly: the differ compares which pages share frames.
   */
  frame: bigint | null;
  /** The 8-byte tag at the start of the page, read only when present. */
  tag: bigint | null;
  /**
   * Mapped by a huge PMD (a PMD-mapped THP): what an aligned move keeps and a misaligned one
   * splits (smaps AnonHugePages counts these). A PTE-mapped large folio is not `thp`.
   */
  thp: boolean;
  /** The kernel side could not tell whether this page is PMD-mapped (no PAGEMAP_SCAN; see kernel/thp-slots.ts). */
  thpUnknown?: boolean;
  /** The zero page (a read fault on private anonymous memory). */
  zero: boolean;
}

export interface Snapshot {
  start: bigint;
  end: bigint;
  /** VMAs intersecting [start, end), full extents, in address order. */
  vmas: VmaView[];
  /** One entry per page in [start, end) when pages were asked for. */
  pages: PageView[];
  /**
   * Whether pagemap showed PFNs to this process (CAP_SYS_ADMIN); frames are null when not.
   * Absent when the space does not say.
   */
  framesVisible?: boolean;
}
