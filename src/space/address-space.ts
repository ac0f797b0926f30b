/**
 * The interface a scenario drives, implemented twice: KernelSpace (src/kernel/, real
 * syscalls inside an arena) and ModelSpace (src/model/, the reference model). Addresses are
 * absolute user virtual addresses as bigint, exactly the values the syscall would get, so
 * alignment to PMD/PUD boundaries means the same thing on both sides. Lengths and flags are
 * passed through unfiltered (u64 arithmetic, any flag bits): checking them is the point.
 */
import type { Result } from './result.js';

/** A uffd step's UFFDIO_API features and UFFDIO_REGISTER mode (UFFD_FEATURE_* / UFFDIO_REGISTER_MODE_* bits). */
export interface UffdOptions {
  mode?: number;
  features?: number;
  /** Open the userfaultfd without UFFD_USER_MODE_ONLY, so it may handle kernel faults too. */
  kernelFaults?: boolean;
}

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

/** A file's initial data: page index → the 8-byte tag at that page's start. */
export type FileContents = ReadonlyMap<number, bigint>;

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
  /**
   * UFFDIO_REGISTER of the range in `opts.mode` (UFFDIO_REGISTER_MODE_* bits, MISSING by
   * default) with the space's current userfaultfd, opened on first use with no features.
   * With `opts.features`, a new userfaultfd is opened first with UFFDIO_API(features) and
   * becomes the current one; when UFFDIO_API fails that is the result.
   */
  uffdRegister(addr: bigint, length: bigint, opts?: UffdOptions): Result<0>;
  /** memfd_create + ftruncate(size), then `contents` written with pwrite. */
  memfd(size: bigint, contents?: FileContents): Result<FileId>;
  /**
   * A regular file of `size` bytes on a disk filesystem, unlinked at once: every page is
   * written (its tag from `contents`, else zeros) and synced, so all of it is in the page
   * cache. EOPNOTSUPP where there is no such filesystem (or in a fork child).
   */
  diskFile(size: bigint, contents?: FileContents): Result<FileId>;
  /**
   * The process's VMAs outside the arena and its guards, counted now: the kernel holds them
   * against vm.max_map_count too, and Node maps and unmaps in the background. The model
   * learns the kernel's count before each step (learnOutsideMapCount). Absent on the model
   * and in fork children.
   */
  outsideMapCount?(): number;
  /** The model takes the kernel's count of VMAs outside the arena (see outsideMapCount). */
  learnOutsideMapCount?(n: number): void;

  /** Write fault: stores the 8-byte tag at the start of the page containing addr. */
  touch(addr: bigint, tag: bigint): Result<0>;
  /** Read fault: returns the 8-byte value at addr (0 for a fresh anonymous page). */
  read(addr: bigint): Result<bigint>;

  /**
   * What a CPU load of the 8 bytes at addr would do, without changing this space: the value
   * it reads, or the signal it raises (the kernel side loads in a forked child).
   */
  load(addr: bigint): Result<LoadOutcome>;

  /** fork(); the child idles (its VMAs share the parent's anon_vmas) until released. */
  fork(): Result<ChildId>;
  /** Ends an idle child (kill + reap). */
  release(child: ChildId): Result<0>;

  /** What the space looks like in [start, end). */
  snapshot(start: bigint, end: bigint, opts?: SnapshotOptions): Snapshot;
}

/** The si_code names of the faults a load can raise (include/uapi/asm-generic/siginfo.h). */
export type FaultCode = 'SEGV_MAPERR' | 'SEGV_ACCERR' | 'SEGV_PKUERR' | 'BUS_ADRERR' | 'BUS_OBJERR';

/** A load that read a value, or one that raised SIGSEGV/SIGBUS with its si_code. */
export type LoadOutcome =
  { signal: null; value: bigint } | { signal: 'SIGSEGV' | 'SIGBUS'; code: FaultCode | `${number}` };

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
