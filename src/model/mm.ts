/**
 * The state of one modelled process address space (≙ struct mm_struct) and what its fork
 * children share with it (≙ the page allocator: frame numbers and refcounts). Every model
 * module (mmap.ts, vma-ops.ts, fault.ts, mremap/…) is a set of functions over one Mm, as the
 * kernel's mm/*.c are over one mm_struct; ModelSpace (address-space.ts) is the facade.
 */
import { TASK_SIZE_4LEVEL } from '../space/constants.js';
import { PMD, PUD, type PageTableState } from './page-tables.js';
import { DEFAULT_PROFILE, getProfile, type Profile } from './profiles.js';
import { Tracer } from './trace.js';
import { DEFAULT_TRAITS, type ModelTraits } from './traits.js';
import type { AnonVma, FileObj, FilePage } from './vma.js';
import { VmaTree } from './vma-tree.js';

export const PAGE = 4096;
export const U64 = (1n << 64n) - 1n;
/** PAGE_ALIGN with u64 wrap-around. */
export function pageAlignU64(x: bigint): bigint {
  return (x + 4095n) & U64 & ~4095n;
}

export const floorPmd = (x: number): number => x - (x % PMD);
export const floorPud = (x: number): number => x - (x % PUD);

/** Frame numbers: 0 is the zero page, 1..512 the huge zero page, real frames start at 4096. */
export const ZERO_FRAME = 0;
export const HUGE_ZERO_FRAME = 1;
const FIRST_FRAME = 4096;

/** A page-table entry of the model. */
export interface Pte {
  frame: number;
  /** Data of an anonymous page (file pages read through fpage). */
  tag: bigint;
  /** Page-cache page when mapped from a file/shmem object (shared, or private before CoW). */
  fpage: FilePage | null;
  zero: boolean;
  /** Part of a large (THP) folio. */
  thp: boolean;
  /** MADV_FREE'd and clean since (folio_mark_lazyfree): reclaim discards it. */
  lazy?: boolean;
}

/** State shared by a space and its fork children: frame numbering and refcounts. */
export class World {
  nextFrame = FIRST_FRAME;
  readonly refs = new Map<number, number>();
  nextFile = 3;
  nextUffd = 1;
  /** userfaultfd ctx → ctx->features (what UFFDIO_API enabled). */
  readonly uffdFeatures = new Map<number, number>();
  nextChild = 1;
  /** The live processes sharing this world (the parent and its fork children). */
  readonly spaces = new Set<Mm>();
  newFrames(n: number): number {
    const f = this.nextFrame;
    this.nextFrame += n;
    for (let i = 0; i < n; i++) this.refs.set(f + i, 1);
    return f;
  }
  get(frame: number): void {
    this.refs.set(frame, (this.refs.get(frame) ?? 0) + 1);
  }
  put(frame: number): void {
    const n = (this.refs.get(frame) ?? 1) - 1;
    if (n <= 0) this.refs.delete(frame);
    else this.refs.set(frame, n);
  }
}

export type ThpMode = 'always' | 'madvise' | 'never';

export interface ModelSpaceOptions {
  /** Profile name or object (default linux-6.18). */
  profile?: string | Profile;
  /** Where non-fixed mappings may be placed by the default top-down search. */
  window?: { start: bigint; end: bigint };
  /** Placement hook for non-fixed mmap and non-FIXED mremap moves; null = no room (ENOMEM). */
  placeUnfixed?: (len: bigint, align: bigint) => bigint | null;
  /** vm.max_map_count (default 65530). */
  maxMapCount?: number;
  /**
   * VMAs of the process that the model does not hold (Node's own, default 0): mm->map_count
   * counts every VMA of the mm against max_map_count, not only the arena's.
   */
  otherMapCount?: number;
  /** /sys/kernel/mm/transparent_hugepage/enabled (default madvise). */
  thp?: ThpMode;
  /** CONFIG_HAVE_MOVE_PMD / CONFIG_HAVE_MOVE_PUD (default on). */
  haveMovePmd?: boolean;
  haveMovePud?: boolean;
  /** TASK_SIZE (default 0x7ffffffff000, 4-level paging). */
  taskSize?: bigint;
  /** vm.mmap_min_addr (default 0x10000). */
  mmapMinAddr?: bigint;
  /** vm.overcommit_memory (0, 1, 2; default 0). Only 2's effect on VM_NORESERVE is modelled. */
  overcommit?: 0 | 1 | 2;
  /** RLIMIT_AS in bytes (default unlimited). */
  rlimitAs?: bigint;
  /** RLIMIT_MEMLOCK in bytes when the task lacks CAP_IPC_LOCK (default unlimited: root). */
  rlimitMemlock?: bigint;
  /** RLIMIT_STACK in bytes: how far a VM_GROWSDOWN VMA may grow (default unlimited). */
  rlimitStack?: bigint;
  /** mm/mmap.c stack_guard_gap in pages (`stack_guard_gap=` on the kernel command line; default 256). */
  stackGuardGap?: number;
  /**
   * pagemap shows PFNs (default true): fs/proc/task_mmu.c:pagemap_open records whether the
   * opener had CAP_SYS_ADMIN (since 4.2) and pagemap_read zeroes them otherwise.
   */
  pfnsVisible?: boolean;
  /**
   * CAP_SYS_PTRACE (default true) and vm.unprivileged_userfaultfd (default 0): whether a
   * userfaultfd may handle kernel faults (fs/userfaultfd.c:userfaultfd_syscall_allowed).
   */
  capSysPtrace?: boolean;
  unprivilegedUserfaultfd?: boolean;
  /** Record decision traces (default true; the bench turns it off). */
  trace?: boolean;
  /** fault_around_bytes / PAGE_SIZE (debugfs; default 16 = 64 KiB). Same as traits.faultAroundPages. */
  faultAroundPages?: number;
  /** What this kernel build does that its version does not tell (probed; default DEFAULT_TRAITS). */
  traits?: Partial<ModelTraits>;
  /** Free 2 MiB hugetlb pages in the pool (/sys/kernel/mm/hugepages/…/free_hugepages; default 0). */
  hugetlbPages?: number;
}

export interface ResolvedOptions {
  profile: Profile;
  windowStart: number;
  windowEnd: number;
  placeUnfixed: ((len: bigint, align: bigint) => bigint | null) | undefined;
  maxMapCount: number;
  otherMapCount: number;
  thp: ThpMode;
  haveMovePmd: boolean;
  haveMovePud: boolean;
  taskSize: bigint;
  mmapMinAddr: bigint;
  overcommit: 0 | 1 | 2;
  rlimitAs: bigint | undefined;
  rlimitMemlock: bigint | undefined;
  rlimitStack: bigint | undefined;
  stackGuardGap: number;
  pfnsVisible: boolean;
  capSysPtrace: boolean;
  unprivilegedUserfaultfd: boolean;
  trace: boolean;
  traits: ModelTraits;
}

function resolve(o: ModelSpaceOptions): ResolvedOptions {
  const profile =
    typeof o.profile === 'object' ? o.profile : getProfile(o.profile ?? DEFAULT_PROFILE);
  return {
    profile,
    windowStart: Number(o.window?.start ?? 0x100000000n),
    windowEnd: Number(o.window?.end ?? 0x7f0000000000n),
    placeUnfixed: o.placeUnfixed,
    maxMapCount: o.maxMapCount ?? 65530,
    otherMapCount: o.otherMapCount ?? 0,
    thp: o.thp ?? 'madvise',
    haveMovePmd: o.haveMovePmd ?? true,
    haveMovePud: o.haveMovePud ?? true,
    taskSize: o.taskSize ?? TASK_SIZE_4LEVEL,
    mmapMinAddr: o.mmapMinAddr ?? 0x10000n,
    overcommit: o.overcommit ?? 0,
    rlimitAs: o.rlimitAs,
    rlimitMemlock: o.rlimitMemlock,
    rlimitStack: o.rlimitStack,
    stackGuardGap: o.stackGuardGap ?? 256,
    pfnsVisible: o.pfnsVisible ?? true,
    capSysPtrace: o.capSysPtrace ?? true,
    unprivilegedUserfaultfd: o.unprivilegedUserfaultfd ?? false,
    trace: o.trace ?? true,
    traits: {
      ...DEFAULT_TRAITS,
      ...(o.faultAroundPages !== undefined ? { faultAroundPages: o.faultAroundPages } : {}),
      ...o.traits,
    },
  };
}

/** struct mm_struct, reduced to what the model tracks. */
export class Mm {
  readonly profile: Profile;
  readonly o: ResolvedOptions;
  /** mm->mm_mt */
  readonly tree = new VmaTree();
  /** page number → PTE */
  readonly ptes = new Map<number, Pte>();
  /** page-table presence */
  readonly pt: PageTableState;
  /** page numbers holding a guard PTE marker (MADV_GUARD_INSTALL, 6.13). */
  readonly guards = new Set<number>();
  readonly world: World;
  readonly tracer: Tracer;
  /** memfd table (fd → file) */
  files = new Map<number, FileObj>();
  /** mm->locked_vm in pages (with the 6.15+ DONTUNMAP leak). */
  lockedVm = 0;
  /** Free 2 MiB huge pages not reserved (the pool is system-wide; children share the count). */
  hugetlbFree: number;
  /** The userfaultfd context this process registers with (one per process here). */
  uffdCtx: number | null = null;
  /** exit_mmap ran. */
  dead = false;
  /** the anon_vmas this space created by forking (released on exit). */
  forkAnonVmas: AnonVma[] = [];

  constructor(opts: ModelSpaceOptions, world?: World) {
    this.o = resolve(opts);
    this.profile = this.o.profile;
    this.world = world ?? new World();
    this.world.spaces.add(this);
    this.tracer = new Tracer(this.o.trace);
    this.hugetlbFree = opts.hugetlbPages ?? 0;
    this.pt = {
      pteTables: new Set(),
      pmdTables: new Set(),
      hugePmds: new Set(),
      presentIn: (start: number, end: number): number => this.countPresent(start, end),
    };
  }

  /** mm->map_count: the model's VMAs and the process's others. */
  get mapCount(): number {
    return this.tree.size + this.o.otherMapCount;
  }

  countPresent(start: number, end: number): number {
    let n = 0;
    this.forEachPte(start, end, () => n++);
    return n;
  }

  /** Visits PTEs in [start, end) in address order. */
  forEachPte(start: number, end: number, fn: (pn: number, pte: Pte) => void): void {
    const p0 = start / PAGE;
    const p1 = end / PAGE;
    if (p1 - p0 <= this.ptes.size * 2) {
      for (let p = p0; p < p1; p++) {
        const pte = this.ptes.get(p);
        if (pte !== undefined) fn(p, pte);
      }
    } else {
      const keys: number[] = [];
      for (const k of this.ptes.keys()) if (k >= p0 && k < p1) keys.push(k);
      keys.sort((a, b) => a - b);
      for (const k of keys) fn(k, this.ptes.get(k)!);
    }
  }
}
