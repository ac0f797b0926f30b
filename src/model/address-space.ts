/**
 * ModelSpace: the reference model of one process address space (≙ struct mm_struct),
 * implementing the shared AddressSpace interface. Pure TypeScript, no I/O.
 */
import type {
  AddressSpace,
  ChildId,
  FileId,
  MapArgs,
  PageView,
  RemapArgs,
  Snapshot,
  SnapshotOptions,
  VmaView,
} from '../space/address-space.js';
import { MADV, MAP, MLOCK, PROT, TASK_SIZE_4LEVEL, protString } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { ok, type Err, type Result } from '../space/result.js';
import { vmaMergeExistingRange, vmaMergeNewRange, type VmaMergeState } from './merge.js';
import { doMremap } from './mremap.js';
import { PMD, PUD, type PageTableState } from './page-tables.js';
import { DEFAULT_PROFILE, getProfile, type Profile } from './profiles.js';
import { Tracer, type OpTrace } from './trace.js';
import { DEFAULT_TRAITS, type ModelTraits } from './traits.js';
import {
  AnonVma,
  FileObj,
  VM,
  VM_LOCKED_MASK,
  VM_SPECIAL,
  Vma,
  maySplit,
  vmFlagMnemonics,
  type FilePage,
} from './vma.js';
import { VmaTree } from './vma-tree.js';

export const PAGE = 4096;
const U64 = (1n << 64n) - 1n;
/** PAGE_ALIGN with u64 wrap-around. */
export function pageAlignU64(x: bigint): bigint {
  return (x + 4095n) & U64 & ~4095n;
}

/** Frame numbers: 0 is the zero page, 1..512 the huge zero page, real frames start at 4096. */
const ZERO_FRAME = 0;
const HUGE_ZERO_FRAME = 1;
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
  nextChild = 1;
  /** The live processes sharing this world (the parent and its fork children). */
  readonly spaces = new Set<ModelSpace>();
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
  /** Record decision traces (default true; the bench turns it off). */
  trace?: boolean;
  /** fault_around_bytes / PAGE_SIZE (debugfs; default 16 = 64 KiB). Same as traits.faultAroundPages. */
  faultAroundPages?: number;
  /** What this kernel build does that its version does not tell (probed; default DEFAULT_TRAITS). */
  traits?: Partial<ModelTraits>;
  /** Free 2 MiB hugetlb pages in the pool (/sys/kernel/mm/hugepages/…/free_hugepages; default 0). */
  hugetlbPages?: number;
}

interface ResolvedOptions {
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
    trace: o.trace ?? true,
    traits: {
      ...DEFAULT_TRAITS,
      ...(o.faultAroundPages !== undefined ? { faultAroundPages: o.faultAroundPages } : {}),
      ...o.traits,
    },
  };
}

const floorPmd = (x: number): number => x - (x % PMD);
const floorPud = (x: number): number => x - (x % PUD);

/**
 * mm/madvise.c:madvise_vma_behavior (and khugepaged.c:hugepage_madvise, ksm.c:ksm_madvise):
 * advice that only sets and clears VMA flags, as [set, clear].
 */
const FLAG_ADVICE: ReadonlyMap<number, readonly [number, number]> = new Map([
  [MADV.NORMAL, [0, VM.SEQ_READ | VM.RAND_READ]],
  [MADV.RANDOM, [VM.RAND_READ, VM.SEQ_READ]],
  [MADV.SEQUENTIAL, [VM.SEQ_READ, VM.RAND_READ]],
  [MADV.DONTFORK, [VM.DONTCOPY, 0]],
  [MADV.DOFORK, [0, VM.DONTCOPY]],
  [MADV.KEEPONFORK, [0, VM.WIPEONFORK]],
  [MADV.DONTDUMP, [VM.DONTDUMP, 0]],
  [MADV.DODUMP, [0, VM.DONTDUMP]],
  [MADV.MERGEABLE, [VM.MERGEABLE, 0]],
  [MADV.UNMERGEABLE, [0, VM.MERGEABLE]],
  [MADV.HUGEPAGE, [VM.HUGEPAGE, VM.NOHUGEPAGE]],
  [MADV.NOHUGEPAGE, [VM.NOHUGEPAGE, VM.HUGEPAGE]],
]);

/** mm/ksm.c:vma_ksm_compatible — VMAs KSM never merges. */
const KSM_INCOMPATIBLE =
  VM.SHARED | VM.MAYSHARE | VM.PFNMAP | VM.IO | VM.DONTEXPAND | VM.HUGETLB | VM.MIXEDMAP;

/**
 * mm/madvise.c:is_discard (mm/mseal.c:is_madv_discard before 6.17): advice that loses data,
 * refused on sealed read-only anonymous memory. DONTFORK/WIPEONFORK count: a child would not
 * see the data.
 */
const MADV_DISCARD: ReadonlySet<number> = new Set([
  MADV.FREE,
  MADV.DONTNEED,
  MADV.DONTNEED_LOCKED,
  MADV.REMOVE,
  MADV.DONTFORK,
  MADV.WIPEONFORK,
  MADV.GUARD_INSTALL,
]);

/**
 * mm/madvise.c:can_madvise_modify refuses a discard on a sealed VMA only when it is anonymous
 * (vma_is_anonymous: no vm_ops, so not shmem or a file) and not writable.
 */
function sealedAnonReadOnly(v: Vma): boolean {
  return (v.flags & VM.SEALED) !== 0 && v.isAnonymous && (v.flags & VM.WRITE) === 0;
}

export class ModelSpace implements AddressSpace {
  readonly label: string;
  readonly profile: Profile;
  /** @internal */ readonly o: ResolvedOptions;
  /** @internal mm->mm_mt */ readonly tree = new VmaTree();
  /** @internal page number → PTE */ readonly ptes = new Map<number, Pte>();
  /** @internal page-table presence */ readonly pt: PageTableState;
  /** @internal page numbers holding a guard PTE marker (MADV_GUARD_INSTALL, 6.13). */
  readonly guards = new Set<number>();
  /** @internal */ readonly world: World;
  /** @internal */ readonly tracer: Tracer;
  /** @internal memfd table (fd → file) */ files = new Map<number, FileObj>();
  /** mm->locked_vm in pages (with the 6.15+ DONTUNMAP leak). */
  lockedVm = 0;
  /** Free 2 MiB huge pages not reserved (the pool is system-wide; children share the count). */
  hugetlbFree: number;
  private uffdCtx: number | null = null;
  private readonly children = new Map<ChildId, ModelSpace>();
  private dead = false;
  /** @internal the anon_vmas this space created by forking (released on exit). */
  forkAnonVmas: AnonVma[] = [];

  constructor(opts: ModelSpaceOptions = {}, world?: World) {
    this.o = resolve(opts);
    this.profile = this.o.profile;
    this.label = `model ${this.profile.name}`;
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

  /** The trace of the last operation (checks and, for moves, page-table plans). */
  get lastTrace(): OpTrace {
    return this.tracer.current;
  }

  /** mm->map_count: the model's VMAs and the process's others. */
  get mapCount(): number {
    return this.tree.size + this.o.otherMapCount;
  }

  /** All VMAs in address order (live objects: do not mutate). */
  vmas(): Vma[] {
    return [...this.tree];
  }

  // ───────────────────────────── helpers ─────────────────────────────

  /** @internal */
  countPresent(start: number, end: number): number {
    let n = 0;
    this.forEachPte(start, end, () => n++);
    return n;
  }

  /** @internal Visits PTEs in [start, end) in address order. */
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

  /** @internal drops one PTE (frame reference included). */
  dropPte(pn: number, pte: Pte): void {
    if (pte.fpage === null && !pte.zero) this.world.put(pte.frame);
    this.ptes.delete(pn);
  }

  /** @internal zap_page_range: clears PTEs in [start, end); partial THP PMDs are split. */
  zapRange(start: number, end: number): void {
    this.splitHugeAt(start);
    this.splitHugeAt(end);
    for (let s = floorPmd(start); s < end; s += PMD)
      if (s >= start && s + PMD <= end) this.pt.hugePmds.delete(s);
    this.forEachPte(start, end, (pn, pte) => this.dropPte(pn, pte));
  }

  /** @internal split_huge_pmd for a THP PMD that addr cuts. */
  splitHugeAt(addr: number): void {
    const slot = floorPmd(addr);
    if (slot !== addr && this.pt.hugePmds.delete(slot)) this.pt.pteTables.add(slot);
  }

  /** @internal free_pgtables: frees tables of slots in [start, end) no VMA intersects any more. */
  freePgtables(start: number, end: number): void {
    for (let s = floorPmd(start); s < end; s += PMD) {
      if (this.tree.intersection(s, s + PMD) === null) {
        this.pt.pteTables.delete(s);
        this.pt.hugePmds.delete(s);
      }
    }
    for (let s = floorPud(start); s < end; s += PUD) {
      if (this.tree.intersection(s, s + PUD) === null) this.pt.pmdTables.delete(s);
    }
  }

  /**
   * @internal __split_vma: splits at addr; returns [lower, upper]. vma_adjust_trans_huge
   * (split_huge_pmd_if_needed) first splits a huge PMD the new boundary would cut: a THP
   * never straddles two VMAs.
   */
  splitVma(vma: Vma, addr: number): [Vma, Vma] {
    this.splitHugeAt(addr);
    const lower = vma.dup(vma.start, addr, vma.pgoff);
    this.tree.setRange(vma, addr, vma.end);
    vma.pgoff += (addr - lower.start) / PAGE;
    this.tree.insert(lower);
    return [lower, vma];
  }

  /** @internal The VMA before addr's position (vma_prev for a range starting at addr). */
  prevOf(addr: number): Vma | null {
    const v = this.tree.floor(addr - 1);
    return v;
  }

  /**
   * @internal mm/vma.c:vma_modify — try vma_merge_existing_range for [start, end) of vma with
   * new flags/uffd; else split_vma (ENOMEM at max_map_count) and set them on the middle.
   */
  vmaModify(vma: Vma, start: number, end: number, flags: number, uffd: number | null): Result<Vma> {
    const prev = vma.prev;
    const vmg: VmaMergeState = {
      prev, // adjacency is checked by can_vma_merge_left
      next: null,
      middle: vma,
      start,
      end,
      flags,
      file: vma.file,
      pgoff: vma.pgoff + (start - vma.start) / PAGE,
      anonVma: vma.anonVma,
      chainLen: vma.chainLen,
      uffd,
      copiedFrom: null,
    };
    const merged = vmaMergeExistingRange(this.tree, this.profile, vmg);
    if (merged !== null) {
      // commit_merge → vma_adjust_trans_huge: a boundary moved to start or end splits the
      // huge PMD it now cuts.
      this.splitHugeAt(start);
      this.splitHugeAt(end);
      this.tracer.note('vma_merge_existing_range', `merged-${merged.kind}`);
      return ok(merged.vma);
    }
    let mid = vma;
    if (mid.start < start) {
      if (this.mapCount >= this.o.maxMapCount)
        return this.tracer.fail('split_vma: map_count', Errno.ENOMEM);
      if (!maySplit(mid, start))
        return this.tracer.fail('split_vma: vm_ops->may_split', Errno.EINVAL);
      mid = this.splitVma(mid, start)[1];
    }
    if (mid.end > end) {
      if (this.mapCount >= this.o.maxMapCount)
        return this.tracer.fail('split_vma: map_count', Errno.ENOMEM);
      if (!maySplit(mid, end))
        return this.tracer.fail('split_vma: vm_ops->may_split', Errno.EINVAL);
      mid = this.splitVma(mid, end)[0];
    }
    mid.flags = flags;
    mid.uffd = uffd;
    return ok(mid);
  }

  /** @internal Any sealed VMA intersecting [start, end)? (mm/mseal.c:check_mm_seal / can_modify_mm) */
  rangeSealed(start: number, end: number): boolean {
    for (let v = this.tree.findVma(start); v !== null && v.start < end; v = v.next) {
      if ((v.flags & VM.SEALED) !== 0) return true;
    }
    return false;
  }

  /**
   * @internal mm/vma.c:do_vmi_munmap on aligned numbers: sealed → EPERM, a middle split at
   * max_map_count → ENOMEM, may_split refusals → EINVAL; then removes VMAs and pages.
   */
  doMunmap(start: number, end: number, step = 'do_vmi_munmap'): Result<0> {
    if (end <= start) return ok(0);
    const first = this.tree.findVma(start);
    if (first === null || first.start >= end) return ok(0);
    // 6.10–6.11: can_modify_mm over the whole range before anything changes.
    if (this.profile.mseal === 'range' && this.rangeSealed(start, end)) {
      return this.tracer.fail(`${step}: sealed VMA in range`, Errno.EPERM);
    }
    if (first.start < start) {
      if (end < first.end && this.mapCount >= this.o.maxMapCount) {
        return this.tracer.fail(`${step}: split needs map_count < max_map_count`, Errno.ENOMEM);
      }
    }
    for (let v: Vma | null = first; v !== null && v.start < end; v = v.next) {
      if ((v.start < start && !maySplit(v, start)) || (v.end > end && !maySplit(v, end))) {
        return this.tracer.fail(`${step}: vm_ops->may_split`, Errno.EINVAL);
      }
    }
    let v: Vma | null = first;
    if (this.profile.mseal === 'vma') {
      // mm/vma.c:vms_gather_munmap_vmas (6.12, Pedro Falcato's mseal rework): can_modify_vma
      // on the first VMA before splitting it, then on each VMA of the walk — a sealed VMA
      // further on fails with EPERM after the first VMA was split, and the split stays.
      if ((first.flags & VM.SEALED) !== 0)
        return this.tracer.fail(`${step}: can_modify_vma (first VMA)`, Errno.EPERM);
      if (this.rangeSealed(start, end)) {
        if (first.start < start) this.splitVma(first, start);
        return this.tracer.fail(`${step}: can_modify_vma (split kept)`, Errno.EPERM);
      }
    }
    if (v.start < start) v = this.splitVma(v, start)[1];
    while (v !== null && v.start < end) {
      const nx: Vma | null = v.next;
      if (v.end > end) v = this.splitVma(v, end)[0];
      if ((v.flags & VM.LOCKED) !== 0) this.lockedVm -= v.pages;
      // hugetlb_vm_op_close → hugetlb_acct_memory: the unmapped part's reservation returns.
      if ((v.flags & (VM.HUGETLB | VM.NORESERVE)) === VM.HUGETLB) this.hugetlbFree += v.pages / 512;
      this.tree.remove(v);
      v = nx;
    }
    this.zapRange(start, end);
    this.dropGuards(start, end);
    this.freePgtables(start, end);
    return ok(0);
  }

  /**
   * @internal unmap_vmas zaps with ZAP_FLAG_DROP_MARKER: unmapping removes guard markers,
   * which MADV_DONTNEED/FREE/REMOVE/PAGEOUT leave in place.
   */
  dropGuards(start: number, end: number): void {
    if (this.guards.size === 0) return;
    for (let p = start / PAGE; p < end / PAGE; p++) this.guards.delete(p);
  }

  /** @internal may_expand_vm: RLIMIT_AS. */
  mayExpandVm(pages: number): boolean {
    if (this.o.rlimitAs === undefined) return true;
    let total = 0;
    for (const v of this.tree) total += v.pages;
    return BigInt(total + pages) * 4096n <= this.o.rlimitAs;
  }

  /** @internal mlock_future_ok: RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
  mlockFutureOk(locked: boolean, bytes: number): boolean {
    if (!locked || this.o.rlimitMemlock === undefined) return true;
    return BigInt(this.lockedVm * PAGE + bytes) <= this.o.rlimitMemlock;
  }

  private gapFree(start: number, len: number): boolean {
    return this.tree.intersection(start, start + len) === null;
  }

  /**
   * @internal get_unmapped_area for a non-fixed request: a usable hint wins
   * (arch_get_unmapped_area_topdown), else the placement hook, else a top-down search of the
   * window. align > PAGE for THP-aligned anonymous requests.
   */
  getUnmappedArea(len: number, hint: bigint, align: number): Result<number> {
    if (BigInt(len) > this.o.taskSize)
      return this.tracer.fail('get_unmapped_area: len > TASK_SIZE', Errno.ENOMEM);
    if (hint !== 0n) {
      let h = hint & ~4095n;
      if (h < this.o.mmapMinAddr) h = this.o.mmapMinAddr;
      if (h + BigInt(len) <= this.o.taskSize && this.gapFree(Number(h), len)) {
        this.tracer.note('get_unmapped_area: hint', 'ok', `0x${h.toString(16)}`);
        return ok(Number(h));
      }
    }
    if (this.o.placeUnfixed !== undefined) {
      const a = this.o.placeUnfixed(BigInt(len), BigInt(align));
      if (a === null) return this.tracer.fail('get_unmapped_area: placeUnfixed', Errno.ENOMEM);
      this.tracer.note('get_unmapped_area: placeUnfixed', 'ok', `0x${a.toString(16)}`);
      return ok(Number(a));
    }
    const lo = this.o.windowStart;
    let top = this.o.windowEnd;
    let v = this.tree.floor(top - 1);
    for (;;) {
      const gapStart = Math.max(lo, v === null ? lo : v.end);
      let cand = top - len;
      cand -= cand % align;
      if (cand >= gapStart && cand + len <= top) {
        this.tracer.note('get_unmapped_area: top-down', 'ok', `0x${cand.toString(16)}`);
        return ok(cand);
      }
      if (v === null || v.start <= lo) break;
      top = v.start;
      v = v.prev;
    }
    return this.tracer.fail('get_unmapped_area: no gap in window', Errno.ENOMEM);
  }

  /** @internal find_mergeable_anon_vma + __anon_vma_prepare (mm/rmap.c). */
  anonVmaPrepare(vma: Vma): void {
    if (vma.anonVma !== null) return;
    const reuse = this.findMergeableAnonVma(vma);
    if (reuse !== null) {
      vma.anonVma = reuse;
      this.tracer.note('find_mergeable_anon_vma', 'reused', `anon_vma ${reuse.id}`);
    } else {
      vma.anonVma = new AnonVma(null);
    }
    vma.chainLen = 1;
  }

  /** mm/rmap.c:find_mergeable_anon_vma — next first, then prev, via reusable_anon_vma. */
  findMergeableAnonVma(vma: Vma): AnonVma | null {
    const nx = vma.next;
    if (nx !== null && anonVmaCompatible(vma, nx) && nx.anonVma !== null && nx.chainLen === 1)
      return nx.anonVma;
    const pv = vma.prev;
    if (pv !== null && anonVmaCompatible(pv, vma) && pv.anonVma !== null && pv.chainLen === 1)
      return pv.anonVma;
    return null;
  }

  /** @internal THP eligibility of an anonymous private fault (thp mode, VM_(NO)HUGEPAGE, slot fits). */
  thpEligible(vma: Vma, addr: number): boolean {
    if (!vma.isAnonymous || (vma.flags & VM.NOHUGEPAGE) !== 0) return false;
    if (this.o.thp === 'never') return false;
    if (this.o.thp === 'madvise' && (vma.flags & VM.HUGEPAGE) === 0) return false;
    const slot = floorPmd(addr);
    return (
      slot >= vma.start &&
      slot + PMD <= vma.end &&
      !this.pt.pteTables.has(slot) &&
      !this.pt.hugePmds.has(slot)
    );
  }

  private ensureTables(addr: number): void {
    this.pt.pmdTables.add(floorPud(addr));
    const slot = floorPmd(addr);
    if (!this.pt.hugePmds.has(slot)) this.pt.pteTables.add(slot);
  }

  private fileIndex(vma: Vma, addr: number): number {
    return vma.pgoff + (addr - vma.start) / PAGE;
  }

  private filePage(file: FileObj, index: number, create: boolean): FilePage | null {
    let fp = file.pages.get(index);
    if (fp === undefined && create) {
      fp = { frame: this.world.newFrames(1), tag: 0n };
      this.world.refs.delete(fp.frame);
      file.pages.set(index, fp);
    }
    return fp ?? null;
  }

  /**
   * mm/hugetlb.c:hugetlb_fault — a read or write fault maps a whole zeroed huge page (there
   * is no hugetlb zero page), taken from the reservation; a NORESERVE mapping with an empty
   * pool gets SIGBUS.
   */
  private hugetlbFault(vma: Vma, addr: number, write: boolean, tag: bigint | null): Result<0> {
    const size = vma.special?.splitAlign ?? PMD;
    const slot = addr - (addr % size);
    const pn = addr / PAGE;
    if (!this.ptes.has(slot / PAGE)) {
      if ((vma.flags & VM.NORESERVE) !== 0) {
        if (this.hugetlbFree < 1)
          return this.tracer.fail('hugetlb_fault: no page (SIGBUS)', Errno.EFAULT);
        this.hugetlbFree -= 1;
      }
      const n = size / PAGE;
      const f = this.world.newFrames(n);
      for (let i = 0; i < n; i++) {
        this.ptes.set(slot / PAGE + i, {
          frame: f + i,
          tag: 0n,
          fpage: null,
          zero: false,
          thp: true,
        });
      }
      this.pt.pmdTables.add(floorPud(slot));
      if (size === PMD) this.pt.hugePmds.add(slot);
    }
    if (write && tag !== null) this.ptes.get(pn)!.tag = tag;
    return ok(0);
  }

  /**
   * mm/memory.c:do_fault_around (since 3.15; this window arithmetic from 6.4): a read fault
   * on a file-backed VMA also maps the neighbouring pages already in the page cache, over
   * fault_around_bytes (64 KiB) aligned down, clamped to the VMA and to the PTE table.
   */
  private faultAround(vma: Vma, addr: number): void {
    const nr = this.o.traits.faultAroundPages;
    if (nr <= 1 || vma.file === null) return;
    const pteOff = (addr / PAGE) % 512;
    const vmaOff = (addr - vma.start) / PAGE;
    const from = Math.max(pteOff - (pteOff % nr), pteOff - Math.min(pteOff, vmaOff));
    const to = Math.min(from + nr, 512, pteOff + vma.pages - vmaOff);
    const eofPages = Math.ceil(vma.file.size / PAGE);
    for (let i = from; i < to; i++) {
      const a = addr + (i - pteOff) * PAGE;
      const pn = a / PAGE;
      if (this.ptes.has(pn) || this.guards.has(pn)) continue;
      const idx = this.fileIndex(vma, a);
      if (idx >= eofPages) continue;
      const fp = this.filePage(vma.file, idx, false);
      if (fp === null) continue; // filemap_map_pages maps only pages already cached
      this.ptes.set(pn, { frame: fp.frame, tag: 0n, fpage: fp, zero: false, thp: false });
    }
  }

  /**
   * @internal handle_mm_fault for one page: write → anon_vma_prepare + private copy
   * (do_anonymous_page / do_wp_page / do_cow_fault) or a page-cache write for shared
   * mappings; read → zero page (anon) or page-cache page. Returns EFAULT for SIGSEGV/SIGBUS.
   */
  fault(vma: Vma, addr: number, write: boolean, tag: bigint | null): Result<0> {
    if ((vma.flags & VM.HUGETLB) !== 0) return this.hugetlbFault(vma, addr, write, tag);
    const pn = addr / PAGE;
    // mm/memory.c:handle_pte_marker — a guard marker faults with VM_FAULT_SIGSEGV.
    if (this.guards.has(pn)) return this.tracer.fail('fault: guard region (SIGSEGV)', Errno.EFAULT);
    const shared = (vma.flags & VM.SHARED) !== 0;
    const pte = this.ptes.get(pn);
    if (vma.file !== null) {
      const idx = this.fileIndex(vma, addr);
      if (idx >= Math.ceil(vma.file.size / PAGE))
        return this.tracer.fail('fault: beyond EOF (SIGBUS)', Errno.EFAULT);
    }
    // A MISSING userfault is raised where there is nothing to map: an empty PTE of anonymous
    // memory (do_anonymous_page), or for shmem a page absent from the page cache
    // (mm/shmem.c:shmem_get_folio_gfp) — a cached page is mapped without one.
    if (
      pte === undefined &&
      (vma.flags & VM.UFFD_MISSING) !== 0 &&
      (vma.file === null || this.filePage(vma.file, this.fileIndex(vma, addr), false) === null)
    ) {
      // do_anonymous_page calls vmf_anon_prepare before a write fault's userfault (a read
      // takes the zero-page branch first), do_huge_pmd_anonymous_page before either: the
      // failed fault still leaves the VMA an anon_vma, which fork and merges then see.
      if (vma.isAnonymous && (write || !this.o.traits.zeroPage || this.thpEligible(vma, addr)))
        this.anonVmaPrepare(vma);
      return this.tracer.fail('fault: userfaultfd MISSING would block', Errno.EFAULT);
    }
    if (!write) {
      if (pte !== undefined) return ok(0);
      const traits = this.o.traits;
      if (vma.file !== null) {
        const fp = this.filePage(vma.file, this.fileIndex(vma, addr), true)!;
        this.ptes.set(pn, { frame: fp.frame, tag: 0n, fpage: fp, zero: false, thp: false });
        this.faultAround(vma, addr);
      } else if (
        this.thpEligible(vma, addr) ? !(traits.zeroPage && traits.hugeZeroPage) : !traits.zeroPage
      ) {
        // mm/memory.c:do_anonymous_page and huge_memory.c:do_huge_pmd_anonymous_page take
        // the zero page only when !mm_forbids_zeropage() (and, for the huge one,
        // use_zero_page); otherwise a read fault allocates as a write fault does — an
        // exclusive zero-filled page (or THP) with vmf_anon_prepare().
        return this.fault(vma, addr, true, 0n);
      } else if (this.thpEligible(vma, addr)) {
        // do_huge_pmd_anonymous_page read fault: the huge zero page — after vmf_anon_prepare
        // (anon_vma_prepare since 2.6.38), so the VMA gets an anon_vma and fork copies the PMD.
        this.anonVmaPrepare(vma);
        const slot = floorPmd(addr);
        this.pt.pmdTables.add(floorPud(addr));
        this.pt.hugePmds.add(slot);
        for (let i = 0; i < 512; i++) {
          this.ptes.set(slot / PAGE + i, {
            frame: HUGE_ZERO_FRAME + i,
            tag: 0n,
            fpage: null,
            zero: true,
            thp: true,
          });
        }
        return ok(0);
      } else {
        this.ptes.set(pn, { frame: ZERO_FRAME, tag: 0n, fpage: null, zero: true, thp: false });
      }
      this.ensureTables(addr);
      return ok(0);
    }
    // mm/memory.c:do_cow_fault — a write fault on a private file mapping first reads the
    // page through __do_fault (shmem_fault puts it in the page cache), then copies it: the
    // private page starts with the file's data, and the cache keeps the page. do_shared_fault
    // writes the cached page itself, so a write without new data (MADV_POPULATE_WRITE, e.g.
    // in a fork child, whose shared PTEs dup_mmap did not copy) keeps what the file holds.
    const cached =
      vma.file !== null && pte === undefined
        ? this.filePage(vma.file, this.fileIndex(vma, addr), true)
        : null;
    const newTag =
      tag ??
      (pte === undefined ? (cached?.tag ?? 0n) : pte.fpage !== null ? pte.fpage.tag : pte.tag);
    if (shared) {
      const fp = this.filePage(vma.file!, this.fileIndex(vma, addr), true)!;
      // A write without data (MADV_POPULATE_WRITE) maps the cached page as it is.
      if (tag !== null) fp.tag = tag;
      if (pte === undefined)
        this.ptes.set(pn, { frame: fp.frame, tag: 0n, fpage: fp, zero: false, thp: false });
      this.ensureTables(addr);
      return ok(0);
    }
    // Private: an exclusive anonymous page is written in place.
    if (
      pte !== undefined &&
      pte.fpage === null &&
      !pte.zero &&
      this.world.refs.get(pte.frame) === 1
    ) {
      pte.tag = newTag;
      // A write dirties a lazily freed page: shrink_folio_list keeps it (folio_mark_dirty).
      pte.lazy = false;
      return ok(0);
    }
    this.anonVmaPrepare(vma);
    const slot = floorPmd(addr);
    if (pte === undefined && this.thpEligible(vma, addr)) {
      this.pt.pmdTables.add(floorPud(addr));
      this.pt.hugePmds.add(slot);
      return this.mapFreshThp(slot, pn, newTag);
    }
    if (pte?.zero === true && this.pt.hugePmds.has(slot) && this.profile.hugeZeroWpAllocatesThp) {
      // mm/huge_memory.c:do_huge_zero_wp_pmd (6.13): the huge zero PMD becomes a fresh THP.
      return this.mapFreshThp(slot, pn, newTag);
    }
    // A write into a PMD-mapped THP we cannot write in place (huge zero page before 6.13,
    // CoW): split the PMD.
    if (this.pt.hugePmds.delete(slot)) this.pt.pteTables.add(slot);
    const frame = this.world.newFrames(1);
    if (pte !== undefined) this.dropPte(pn, pte);
    this.ptes.set(pn, { frame, tag: newTag, fpage: null, zero: false, thp: false });
    this.ensureTables(addr);
    return ok(0);
  }

  /** A new anonymous THP in a PMD slot whose huge PMD is set; page pn gets the written tag. */
  private mapFreshThp(slot: number, pn: number, tag: bigint): Result<0> {
    const f = this.world.newFrames(512);
    for (let i = 0; i < 512; i++) {
      this.ptes.set(slot / PAGE + i, {
        frame: f + i,
        tag: 0n,
        fpage: null,
        zero: false,
        thp: true,
      });
    }
    this.ptes.get(pn)!.tag = tag;
    return ok(0);
  }

  /**
   * @internal mm/gup.c:__mm_populate over [start, end), one populate_vma_page_range per VMA:
   * VM_IO/VM_PFNMAP and VM_LOCKONFAULT VMAs are skipped; private writable VMAs take write
   * faults (breaking CoW), others read faults. A VMA without access gets no FOLL_FORCE, so
   * GUP fails there (EFAULT), as does a fault past a file's end (SIGBUS). mm_populate
   * (ignoreErrors) goes on with the next VMA; mlock's __mm_populate(…, 0) stops at the first.
   */
  populate(start: number, end: number, ignoreErrors = true): Result<0> {
    for (let v = this.tree.findVma(start); v !== null && v.start < end; v = v.next) {
      if ((v.flags & (VM.IO | VM.PFNMAP | VM.LOCKONFAULT)) !== 0) continue;
      const r = this.populateVma(v, Math.max(v.start, start), Math.min(v.end, end));
      if (!r.ok && !ignoreErrors) return r;
    }
    return ok(0);
  }

  /** populate_vma_page_range → __get_user_pages for one VMA (stops at the first failure). */
  private populateVma(v: Vma, s: number, e: number): Result<0> {
    if ((v.flags & (VM.READ | VM.WRITE | VM.EXEC)) === 0)
      return this.tracer.fail('populate_vma_page_range: check_vma_flags', Errno.EFAULT);
    const write = (v.flags & (VM.WRITE | VM.SHARED)) === VM.WRITE;
    for (let a = s; a < e; a += PAGE) {
      const pte = this.ptes.get(a / PAGE);
      if (
        pte !== undefined &&
        (!write ||
          (pte.fpage === null && !pte.zero && this.world.refs.get(pte.frame) === 1) ||
          (v.flags & VM.SHARED) !== 0)
      )
        continue;
      const r = this.fault(v, a, write, null);
      if (!r.ok) return r;
    }
    return ok(0);
  }

  // ───────────────────────────── syscalls ─────────────────────────────

  map(args: MapArgs): Result<bigint> {
    const tr = this.tracer;
    tr.begin('mmap');
    let e;
    let flags = args.flags;
    const offset = args.offset ?? 0n;
    if ((e = tr.check('sys_mmap: offset & ~PAGE_MASK', (offset & 4095n) !== 0n, Errno.EINVAL)))
      return e;
    const anon = (flags & MAP.ANONYMOUS) !== 0;
    let file: FileObj | null = null;
    if (!anon) {
      file = args.file === undefined ? null : (this.files.get(args.file) ?? null);
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
    if (!fixed && addr !== 0n && addr < this.o.mmapMinAddr) addr = pageAlignU64(this.o.mmapMinAddr);
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
        this.mapCount > this.o.maxMapCount,
        Errno.ENOMEM,
      ))
    )
      return e;
    // get_unmapped_area
    if ((e = tr.check('get_unmapped_area: len > TASK_SIZE', lenB > this.o.taskSize, Errno.ENOMEM)))
      return e;
    const len = Number(lenB);
    const type = flags & MAP.SHARED_VALIDATE;
    const shared = type === MAP.SHARED || type === MAP.SHARED_VALIDATE;
    let start: number;
    if (fixed) {
      if (
        (e = tr.check(
          'get_unmapped_area: addr > TASK_SIZE - len',
          addr > this.o.taskSize - lenB,
          Errno.ENOMEM,
        ))
      )
        return e;
      if (
        (e = tr.check(
          'get_unmapped_area: offset_in_page(addr)',
          (addr & 4095n) !== 0n,
          Errno.EINVAL,
        ))
      )
        return e;
      if (
        (e = tr.check(
          'security_mmap_addr: addr < mmap_min_addr',
          addr < this.o.mmapMinAddr,
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
          : this.profile.thpAlignUnmapped && anon && !shared && len % PMD === 0
            ? PMD
            : PAGE;
      const r = this.getUnmappedArea(len, addr, align);
      if (!r.ok) return r;
      start = r.value;
    }
    const end = start + len;
    if ((flags & MAP.FIXED_NOREPLACE) !== 0) {
      if (
        (e = tr.check(
          'do_mmap: MAP_FIXED_NOREPLACE and range in use',
          this.tree.intersection(start, end) !== null,
          Errno.EEXIST,
        ))
      )
        return e;
    }
    if ((flags & MAP.LOCKED) !== 0 && !this.mlockFutureOk(true, len))
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
    if ((flags & MAP.NORESERVE) !== 0 && (this.o.overcommit !== 2 || huge !== 0))
      vmFlags |= VM.NORESERVE;
    // hugetlbfs_file_mmap sets VM_HUGETLB|VM_DONTEXPAND; accountable_mapping skips hugetlb.
    if (huge !== 0) vmFlags |= VM.HUGETLB | VM.DONTEXPAND;
    // mm/vma.c:accountable_mapping — private writable memory without NORESERVE is charged.
    if ((vmFlags & (VM.NORESERVE | VM.SHARED | VM.WRITE | VM.HUGETLB)) === VM.WRITE)
      vmFlags |= VM.ACCOUNT;
    let pgoff: number;
    if (huge !== 0) {
      file = new FileObj(this.world.nextFile++, 'file', len);
      pgoff = 0;
    } else if (anon && shared) {
      file = new FileObj(this.world.nextFile++, 'shmem', len);
      pgoff = 0;
    } else if (anon) pgoff = start / PAGE;
    else pgoff = Number(pgoffB);
    // __mmap_region: MAP_FIXED unmaps what was there (sealed → EPERM).
    if (this.tree.intersection(start, end) !== null) {
      const r = this.doMunmap(start, end, 'mmap_region: munmap');
      if (!r.ok) return r;
    }
    if (!this.mayExpandVm(len / PAGE)) return tr.fail('mmap_region: may_expand_vm', Errno.ENOMEM);
    // mm/hugetlb.c:hugetlb_reserve_pages — the whole mapping is reserved at mmap time unless
    // MAP_NORESERVE; too few free huge pages is ENOMEM.
    const reserve = huge === PMD && (vmFlags & VM.NORESERVE) === 0 ? len / PMD : 0;
    if (
      huge !== 0 &&
      (vmFlags & VM.NORESERVE) === 0 &&
      (huge !== PMD || reserve > this.hugetlbFree)
    )
      return tr.fail('hugetlb_reserve_pages', Errno.ENOMEM);
    this.hugetlbFree -= reserve;
    const nv = this.insertNewRange(start, end, vmFlags, file, pgoff, 'mmap_region');
    // hugetlb_vm_op_split: splits only at huge-page boundaries.
    if (huge !== 0)
      nv.special = { name: '/anon_hugepage (deleted)', refuseSplit: false, splitAlign: huge };
    if ((vmFlags & VM.LOCKED) !== 0) this.lockedVm += len / PAGE;
    if (
      ((flags & (MAP.POPULATE | MAP.LOCKED)) !== 0 && (flags & MAP.NONBLOCK) === 0) ||
      (flags & MAP.LOCKED) !== 0
    ) {
      this.populate(start, end);
    }
    return ok(BigInt(start));
  }

  /** @internal vma_merge_new_range for a fresh range, else a new VMA. */
  insertNewRange(
    start: number,
    end: number,
    flags: number,
    file: FileObj | null,
    pgoff: number,
    step: string,
  ): Vma {
    const prev = this.tree.floor(start - 1);
    const next = prev === null ? this.tree.head : prev.next;
    const vmg: VmaMergeState = {
      prev,
      next,
      middle: null,
      start,
      end,
      flags,
      file,
      pgoff,
      anonVma: null,
      chainLen: 0,
      uffd: null,
      copiedFrom: null,
    };
    const m =
      (flags & VM_SPECIAL) === 0 && file?.kind !== 'shmem'
        ? vmaMergeNewRange(this.tree, this.profile, vmg)
        : null;
    if (m !== null) {
      this.tracer.note(`${step}: vma_merge_new_range`, `merged-${m.kind}`);
      return m.vma;
    }
    const v = new Vma(start, end, flags, file, pgoff);
    this.tree.insert(v);
    this.tracer.note(`${step}: new VMA`, 'ok');
    return v;
  }

  unmap(addr: bigint, length: bigint): Result<0> {
    const tr = this.tracer;
    tr.begin('munmap');
    return this.munmapChecked(addr, length, 'do_vmi_munmap');
  }

  /** @internal do_vmi_munmap with its own argument checks (used by munmap and mremap shrink). */
  munmapChecked(addr: bigint, length: bigint, step: string): Result<0> {
    const tr = this.tracer;
    let e;
    if ((e = tr.check(`${step}: offset_in_page(start)`, (addr & 4095n) !== 0n, Errno.EINVAL)))
      return e;
    if ((e = tr.check(`${step}: start > TASK_SIZE`, addr > this.o.taskSize, Errno.EINVAL)))
      return e;
    const len = pageAlignU64(length);
    if (
      (e = tr.check(`${step}: len > TASK_SIZE - start`, len > this.o.taskSize - addr, Errno.EINVAL))
    )
      return e;
    if ((e = tr.check(`${step}: len == 0`, len === 0n, Errno.EINVAL))) return e;
    return this.doMunmap(Number(addr), Number(addr + len), step);
  }

  protect(addr: bigint, length: bigint, prot: number): Result<0> {
    const tr = this.tracer;
    tr.begin('mprotect');
    let e;
    // mm/mprotect.c:do_mprotect_pkey
    if ((e = tr.check('do_mprotect_pkey: start & ~PAGE_MASK', (addr & 4095n) !== 0n, Errno.EINVAL)))
      return e;
    if (length === 0n) {
      tr.note('do_mprotect_pkey: !len', 'ok');
      return ok(0);
    }
    const len = pageAlignU64(length);
    const endB = (addr + len) & U64;
    if ((e = tr.check('do_mprotect_pkey: end <= start', endB <= addr, Errno.ENOMEM))) return e;
    if (
      (e = tr.check(
        'do_mprotect_pkey: unknown prot bits',
        (prot & ~0x7 & ~0x3000008) !== 0,
        Errno.EINVAL,
      ))
    )
      return e;
    if (addr > this.o.taskSize) return tr.fail('do_mprotect_pkey: vma_find', Errno.ENOMEM);
    const start = Number(addr);
    const end = Number(endB);
    let vma = this.tree.findVma(start);
    if (
      (e = tr.check(
        'do_mprotect_pkey: no VMA at start',
        vma === null || vma.start > start,
        Errno.ENOMEM,
      ))
    )
      return e;
    if (this.profile.mseal === 'range' && this.rangeSealed(start, end))
      return tr.fail('can_modify_mm', Errno.EPERM);
    let tmp = vma!.start;
    const want =
      (prot & PROT.READ ? VM.READ : 0) |
      (prot & PROT.WRITE ? VM.WRITE : 0) |
      (prot & PROT.EXEC ? VM.EXEC : 0);
    while (vma !== null && vma.start < end) {
      if (vma.start !== tmp) return tr.fail('do_mprotect_pkey: hole in range', Errno.ENOMEM);
      const oldFlags = vma.flags;
      let newFlags = (oldFlags & ~(VM.READ | VM.WRITE | VM.EXEC)) | want;
      // VM_MAY* must allow the new bits.
      if ((newFlags & ~(newFlags >> 4) & (VM.READ | VM.WRITE | VM.EXEC)) !== 0)
        return tr.fail('do_mprotect_pkey: VM_MAY*', Errno.EACCES);
      const tmpEnd = Math.min(vma.end, end);
      if (this.profile.mseal === 'vma' && (oldFlags & VM.SEALED) !== 0)
        return tr.fail('mprotect_fixup: can_modify_vma', Errno.EPERM);
      // mm/mprotect.c:mprotect_fixup — VM_ACCOUNT charge on becoming writable; unfaulted anon unaccounted on losing write (6.3+).
      if (newFlags === oldFlags) {
        tr.note('mprotect_fixup: newflags == oldflags', 'skip');
        tmp = tmpEnd;
        vma = vma.next;
        continue;
      }
      if ((newFlags & VM.WRITE) !== 0) {
        if ((oldFlags & (VM.ACCOUNT | VM.WRITE | VM.HUGETLB | VM.SHARED | VM.NORESERVE)) === 0)
          newFlags |= VM.ACCOUNT;
      } else if (
        this.profile.mprotectUnaccountUnfaulted &&
        (oldFlags & VM.ACCOUNT) !== 0 &&
        vma.isAnonymous &&
        vma.anonVma === null
      ) {
        newFlags &= ~VM.ACCOUNT;
      }
      const pieceStart = Math.max(vma.start, start);
      const r = this.vmaModify(vma, pieceStart, tmpEnd, newFlags, vma.uffd);
      if (!r.ok) return r;
      // mm/mprotect.c:mprotect_fixup — a private VM_LOCKED VMA becoming writable is populated
      // at once to break CoW (populate_vma_page_range; its errors are ignored).
      if (
        (oldFlags & (VM.WRITE | VM.SHARED | VM.LOCKED)) === VM.LOCKED &&
        (newFlags & VM.WRITE) !== 0
      )
        this.populate(pieceStart, tmpEnd);
      // do_mprotect_pkey continues from vma_iter_end(): when the piece merged with the next
      // VMA, that is the merged VMA's end, so the absorbed neighbour is not a "hole".
      tmp = Math.max(tmpEnd, r.value.end);
      vma = r.value.next;
    }
    if (tmp < end) return tr.fail('do_mprotect_pkey: range ends in a hole', Errno.ENOMEM);
    return ok(0);
  }

  /** Walks [start, end) for flag-changing calls: fn per VMA piece; holes recorded. */
  private applyFlags(
    start: number,
    end: number,
    step: string,
    change: (v: Vma) => { flags: number; uffd: number | null } | Err | null,
    /** Errno for a hole in the range, or null when holes are allowed. */
    holeErrno: number | null,
    stopAtHole: boolean,
  ): Result<0> {
    let vma = this.tree.findVma(start);
    let tmp = start;
    let hole = false;
    while (vma !== null && vma.start < end) {
      if (vma.start > tmp) {
        hole = true;
        if (stopAtHole && holeErrno !== null)
          return this.tracer.fail(`${step}: hole in range`, holeErrno);
      }
      const s = Math.max(vma.start, start);
      const e = Math.min(vma.end, end);
      const c = change(vma);
      // madvise_walk_vmas() stops at the first VMA whose visit fails; earlier ones stay done.
      if (c !== null && 'ok' in c) return c;
      let cur = vma;
      if (c !== null && (c.flags !== vma.flags || c.uffd !== vma.uffd)) {
        const r = this.vmaModify(vma, s, e, c.flags, c.uffd);
        if (!r.ok) return r;
        cur = r.value;
      }
      // madvise_walk_vmas() resumes at prev->vm_end and apply_vma_lock_flags() at
      // vma_iter_end(): past a neighbour the piece merged with, never inside it.
      tmp = Math.max(e, cur.end);
      vma = cur.next;
    }
    if ((hole || tmp < end) && holeErrno !== null)
      return this.tracer.fail(`${step}: unmapped range`, holeErrno);
    return ok(0);
  }

  advise(addr: bigint, length: bigint, advice: number): Result<0> {
    const tr = this.tracer;
    tr.begin('madvise');
    let e;
    const known = new Set<number>(Object.values(MADV));
    if ((e = tr.check('madvise: offset_in_page(start)', (addr & 4095n) !== 0n, Errno.EINVAL)))
      return e;
    if ((e = tr.check('madvise_behavior_valid', !known.has(advice), Errno.EINVAL))) return e;
    const len = pageAlignU64(length);
    if ((e = tr.check('madvise: len_in && !len', length !== 0n && len === 0n, Errno.EINVAL)))
      return e;
    const endB = addr + len;
    if ((e = tr.check('madvise: end < start', endB > U64, Errno.EINVAL))) return e;
    if (len === 0n) return ok(0);
    const start = Number(addr);
    const end = Number(endB);
    const discard = MADV_DISCARD.has(advice);
    // 6.10–6.11: mm/mseal.c:can_modify_mm_madv checks the whole range before any advice.
    if (this.profile.mseal === 'range' && discard) {
      for (let v = this.tree.findVma(start); v !== null && v.start < end; v = v.next) {
        if (sealedAnonReadOnly(v)) return tr.fail('can_modify_mm_madv', Errno.EPERM);
      }
    }
    // 6.12+: madvise_vma_behavior checks each VMA as madvise_walk_vmas reaches it
    // (can_modify_vma_madv, 6.12; can_madvise_modify, 6.17): VMAs before a sealed one are
    // already advised when EPERM comes.
    const walk = (change: (v: Vma) => { flags: number; uffd: number | null } | Err | null) =>
      this.applyFlags(
        start,
        end,
        'madvise',
        (v) =>
          this.profile.mseal === 'vma' && discard && sealedAnonReadOnly(v)
            ? tr.fail('madvise_vma_behavior: can_madvise_modify', Errno.EPERM)
            : change(v),
        Errno.ENOMEM,
        false,
      );
    const setFlag = (set: number, clear: number) => (v: Vma) => ({
      flags: (v.flags | set) & ~clear,
      uffd: v.uffd,
    });
    switch (advice) {
      case MADV.NORMAL:
      case MADV.RANDOM:
      case MADV.SEQUENTIAL:
      case MADV.DONTFORK:
      case MADV.DOFORK:
      case MADV.KEEPONFORK:
      case MADV.DONTDUMP:
      case MADV.DODUMP:
      case MADV.MERGEABLE:
      case MADV.UNMERGEABLE:
      case MADV.HUGEPAGE:
      case MADV.NOHUGEPAGE: {
        const [set, clear] = FLAG_ADVICE.get(advice)!;
        // mm/ksm.c:ksm_madvise — a VMA that fails vma_ksm_compatible (shared, hugetlb,
        // special) takes MADV_MERGEABLE as a successful no-op: no flag, so no split.
        if (advice === MADV.MERGEABLE)
          return walk((v) => ((v.flags & KSM_INCOMPATIBLE) !== 0 ? null : setFlag(set, clear)(v)));
        return walk(setFlag(set, clear));
      }
      case MADV.WIPEONFORK:
        // mm/madvise.c:madvise_vma_behavior — "only supported on anonymous memory" (4.14).
        return walk((v) =>
          v.file !== null || (v.flags & VM.SHARED) !== 0
            ? tr.fail('madvise: MADV_WIPEONFORK on vm_file or VM_SHARED', Errno.EINVAL)
            : setFlag(VM.WIPEONFORK, 0)(v),
        );
      case MADV.DONTNEED:
      case MADV.DONTNEED_LOCKED:
      case MADV.FREE:
      case MADV.REMOVE:
        return walk((v) => this.madviseDiscardVma(v, start, end, advice));
      case MADV.POPULATE_READ:
      case MADV.POPULATE_WRITE:
        return this.madvisePopulate(
          start,
          end,
          advice === MADV.POPULATE_WRITE,
          this.profile.populateWalksVmas,
        );
      case MADV.WILLNEED:
        return walk(() => null);
      case MADV.COLLAPSE:
        return walk((v) => this.madviseCollapse(v, start, end));
      case MADV.GUARD_INSTALL:
      case MADV.GUARD_REMOVE:
        if (this.profile.guardRegions === 'none')
          return tr.fail('madvise_behavior_valid: MADV_GUARD_* (6.13)', Errno.EINVAL);
        return walk((v) => this.madviseGuard(v, start, end, advice === MADV.GUARD_INSTALL));
      case MADV.COLD:
      case MADV.PAGEOUT:
        return walk((v) => this.madviseColdOrPageout(v, start, end, advice === MADV.PAGEOUT));
      default:
        return tr.fail('madvise: advice not modelled', Errno.EINVAL, `advice ${advice}`);
    }
  }

  /**
   * mm/madvise.c:madvise_cold / madvise_pageout for one VMA. can_madv_lru_vma: VM_LOCKED,
   * VM_PFNMAP and VM_HUGETLB are EINVAL (5.4). A partly covered THP is split
   * (madvise_cold_or_pageout_pte_range: split_folio). PAGEOUT reclaims what reclaim_pages →
   * shrink_folio_list can take from pages this mm maps once: a clean lazily freed anonymous
   * page is discarded, a page-cache (shmem, memfd) page is unmapped and stays cached. A dirty
   * anonymous page stays mapped: the model assumes no swap (with swap it would be written
   * out and unmapped). The zero page is never reclaimed.
   */
  private madviseColdOrPageout(v: Vma, start: number, end: number, pageout: boolean): Err | null {
    if ((v.flags & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) !== 0)
      return this.tracer.fail('madvise_cold_or_pageout: can_madv_lru_vma', Errno.EINVAL);
    const s = Math.max(v.start, start);
    const e = Math.min(v.end, end);
    this.splitThpFolioAt(v, s);
    this.splitThpFolioAt(v, e);
    if (!pageout) return null;
    this.forEachPte(s, e, (pn, pte) => {
      if (pte.zero || this.pt.hugePmds.has(floorPmd(pn * PAGE))) return;
      if (pte.fpage !== null) {
        if (this.mappedOnce(pte)) this.dropPte(pn, pte);
      } else if (pte.lazy === true && this.world.refs.get(pte.frame) === 1) {
        this.dropPte(pn, pte);
      }
    });
    return null;
  }

  /** folio_maybe_mapped_shared for a page-cache page: mapped by more than one PTE anywhere. */
  private mappedOnce(pte: Pte): boolean {
    let n = 0;
    for (const sp of this.world.spaces)
      for (const p of sp.ptes.values()) if (p.fpage === pte.fpage) n++;
    return n <= 1;
  }

  /**
   * split_folio of a PMD-mapped anonymous THP that addr cuts (madvise's partial-THP paths):
   * the PMD is split, and since 6.12 remap_page(RMP_USE_SHARED_ZEROPAGE) maps every all-zero
   * subpage to the zero page (try_to_map_unused_to_zeropage: not in VM_LOCKED VMAs, not when
   * the zero page is forbidden).
   */
  private splitThpFolioAt(v: Vma, addr: number): void {
    const slot = floorPmd(addr);
    if (slot === addr || !this.pt.hugePmds.has(slot) || !v.isAnonymous) return;
    this.splitHugeAt(addr);
    if (!this.profile.thpSplitZeroRemap || !this.o.traits.zeroPage || (v.flags & VM.LOCKED) !== 0)
      return;
    this.forEachPte(slot, slot + PMD, (pn, pte) => {
      if (pte.zero || pte.fpage !== null || pte.tag !== 0n) return;
      this.dropPte(pn, pte);
      this.ptes.set(pn, { frame: ZERO_FRAME, tag: 0n, fpage: null, zero: true, thp: false });
    });
  }

  /**
   * mm/shmem.c:shmem_fallocate(PUNCH_HOLE) → unmap_mapping_range(even_cows = 0): every
   * mapping of the file, in every process, loses its PTEs of the punched page-cache pages;
   * private CoW copies stay. Then the pages leave the cache.
   */
  private punchHole(file: FileObj, first: number, last: number): void {
    for (const sp of this.world.spaces) {
      for (const v of sp.tree) {
        if (v.file !== file) continue;
        const a = Math.max(v.start, v.start + (first - v.pgoff) * PAGE);
        const b = Math.min(v.end, v.start + (last - v.pgoff) * PAGE);
        if (a >= b) continue;
        sp.forEachPte(a, b, (pn, pte) => {
          if (pte.fpage !== null) sp.dropPte(pn, pte);
        });
      }
    }
    for (let i = first; i < last; i++) file.pages.delete(i);
  }

  /**
   * mm/madvise.c:madvise_guard_install / madvise_guard_remove for one VMA. is_valid_guard_vma:
   * no VM_SPECIAL or VM_HUGETLB, and for install no VM_LOCKED (remove is non-destructive);
   * 6.13–6.14 also wanted an anonymous VMA with VM_MAYWRITE. Install gives the VMA an anon_vma
   * (anon_vma_prepare, so fork copies the markers; ≤6.18 for every VMA), zaps what is
   * mapped (zap_page_range_single: a partly covered THP is split, page-cache pages stay
   * cached) and leaves a marker in every page; existing markers stay.
   */
  private madviseGuard(v: Vma, start: number, end: number, install: boolean): Err | null {
    const disallowed = VM_SPECIAL | VM.HUGETLB | (install ? VM.LOCKED : 0);
    const anonOnly =
      this.profile.guardRegions === 'anon' && (!v.isAnonymous || (v.flags & VM.MAYWRITE) === 0);
    if ((v.flags & disallowed) !== 0 || anonOnly)
      return this.tracer.fail('is_valid_guard_vma', Errno.EINVAL);
    const s = Math.max(v.start, start);
    const e = Math.min(v.end, end);
    if (!install) {
      this.dropGuards(s, e);
      return null;
    }
    this.anonVmaPrepare(v);
    this.zapRange(s, e);
    for (let a = s; a < e; a += PAGE) {
      this.guards.add(a / PAGE);
      this.ensureTables(a);
    }
    return null;
  }

  /**
   * mm/khugepaged.c:madvise_collapse for one anonymous VMA (6.1): thp_vma_allowable_order
   * (forced: the sysfs mode does not matter; VM_NOHUGEPAGE, no anon_vma or no aligned PMD in
   * the VMA refuse) else EINVAL; then each whole PMD of the range is collapsed into a THP
   * (hpage_collapse_scan_pmd + collapse_huge_page: no limit on empty PTEs, the data is
   * copied, empty and zero pages become zero-filled; read-only PTEs too). A PMD without a
   * PTE table is not collapsed (EINVAL); an already huge PMD counts as done.
   */
  private madviseCollapse(v: Vma, start: number, end: number): Err | null {
    const tr = this.tracer;
    const ceilPmd = (x: number): number => (x % PMD === 0 ? x : floorPmd(x) + PMD);
    const fits = ceilPmd(v.start) + PMD <= v.end;
    // __thp_vma_allowable_orders: outside a fault, an anonymous VMA without an anon_vma is not
    // eligible (6.1 tested !vma->anon_vma in madvise_collapse itself).
    if (!v.isAnonymous || v.anonVma === null || (v.flags & VM.NOHUGEPAGE) !== 0 || !fits)
      return tr.fail('madvise_collapse: thp_vma_allowable_order', Errno.EINVAL);
    const s = Math.max(v.start, start);
    const e = Math.min(v.end, end);
    // hstart/hend: a range inside one PMD that does not start on its boundary has
    // hend < hstart, and (hend - hstart) >> HPAGE_PMD_SHIFT, unsigned, never equals the
    // 0 PMDs done: EINVAL (madvise_collapse_errno of the initial SCAN_FAIL).
    if (floorPmd(e) < ceilPmd(s)) return tr.fail('madvise_collapse: hend < hstart', Errno.EINVAL);
    let last: number | null = null;
    for (let slot = ceilPmd(s); slot + PMD <= e; slot += PMD) {
      if (this.pt.hugePmds.has(slot)) continue;
      // find_pmd_or_thp_or_none: no PTE table under the PMD (SCAN_PMD_NULL/NONE) is not
      // collapsed; madvise_collapse goes on and fails with EINVAL at the end.
      if (!this.pt.pteTables.has(slot)) {
        last = Errno.EINVAL;
        tr.note('hpage_collapse_scan_pmd: no PTE table', 'EINVAL');
        continue;
      }
      let none = 512;
      let writable = false;
      this.forEachPte(slot, slot + PMD, (_pn, pte) => {
        if (pte.zero) return;
        none--;
        // pte_write(): a private page this mm alone maps, in a writable VMA.
        if (
          (v.flags & VM.WRITE) !== 0 &&
          pte.fpage === null &&
          this.world.refs.get(pte.frame) === 1
        )
          writable = true;
      });
      if (none > 0 && v.uffd !== null) {
        const errno = this.profile.collapseUffdEinval ? Errno.EINVAL : Errno.EBUSY;
        return tr.fail('madvise_collapse: SCAN_EXCEED_NONE_PTE (uffd armed)', errno);
      }
      if (!writable && this.profile.collapseNeedsWritablePte) {
        last = Errno.EINVAL;
        tr.note('hpage_collapse_scan_pmd: SCAN_PAGE_RO', 'EINVAL');
        continue;
      }
      const f = this.world.newFrames(512);
      for (let i = 0; i < 512; i++) {
        const pn = slot / PAGE + i;
        const old = this.ptes.get(pn);
        const tag = old === undefined || old.zero ? 0n : old.tag;
        if (old !== undefined) this.dropPte(pn, old);
        this.ptes.set(pn, { frame: f + i, tag, fpage: null, zero: false, thp: true });
      }
      this.anonVmaPrepare(v);
      this.pt.pmdTables.add(floorPud(slot));
      this.pt.pteTables.delete(slot);
      this.pt.hugePmds.add(slot);
    }
    return last === null ? null : tr.fail('madvise_collapse: madvise_collapse_errno', last);
  }

  /** One VMA of MADV_DONTNEED(_LOCKED), FREE or REMOVE (null: no flag change). */
  private madviseDiscardVma(v: Vma, start: number, end: number, advice: number): Err | null {
    const tr = this.tracer;
    const s = Math.max(v.start, start);
    const e = Math.min(v.end, end);
    // mm/madvise.c:madvise_dontneed_free_valid_vma — VM_PFNMAP always, and VM_LOCKED
    // unless MADV_DONTNEED_LOCKED (5.18), make DONTNEED/FREE fail with EINVAL.
    if (advice === MADV.DONTNEED || advice === MADV.FREE || advice === MADV.DONTNEED_LOCKED) {
      const forbidden = VM.PFNMAP | (advice === MADV.DONTNEED_LOCKED ? 0 : VM.LOCKED);
      if ((v.flags & forbidden) !== 0 && (v.flags & VM.HUGETLB) === 0) {
        return tr.fail('madvise_dontneed_free_valid_vma', Errno.EINVAL);
      }
    }
    // mm/madvise.c:madvise_free_single_vma — anonymous VMAs only (4.5).
    if (advice === MADV.FREE && !v.isAnonymous) {
      return tr.fail('madvise_free_single_vma: !vma_is_anonymous', Errno.EINVAL);
    }
    if (advice === MADV.FREE) {
      // mm/madvise.c:madvise_free_pte_range — a partly covered THP is split (split_folio);
      // exclusive anonymous pages become lazily free and stay mapped until reclaim.
      this.splitThpFolioAt(v, s);
      this.splitThpFolioAt(v, e);
      this.forEachPte(s, e, (_pn, pte) => {
        if (pte.fpage === null && !pte.zero && this.world.refs.get(pte.frame) === 1)
          pte.lazy = true;
      });
      return null;
    }
    if (advice === MADV.REMOVE) {
      // mm/madvise.c:madvise_remove — a locked VMA or one without a file is EINVAL; a
      // file mapping that is not shared-writable is EACCES (punch hole needs write).
      if ((v.flags & VM.LOCKED) !== 0 || v.file === null) {
        return tr.fail('madvise_remove: VM_LOCKED or no vm_file', Errno.EINVAL);
      }
      if ((v.flags & VM.SHARED) === 0 || (v.flags & VM.MAYWRITE) === 0) {
        return tr.fail('madvise_remove: !vma_is_shared_maywrite', Errno.EACCES);
      }
      this.punchHole(v.file, this.fileIndex(v, s), this.fileIndex(v, e));
    }
    this.zapRange(s, e);
    if (advice !== MADV.REMOVE && this.o.traits.ptReclaim) this.reclaimPteTables(s, e);
    return null;
  }

  /**
   * mm/pt_reclaim.c (CONFIG_PT_RECLAIM, 6.14): madvise_dontneed_single_vma zaps with
   * details->reclaim_pt, and zap_pte_range frees a PTE table it emptied when its part of the
   * zap spans the whole PMD (reclaim_pt_is_enabled: end - start >= PMD_SIZE).
   */
  private reclaimPteTables(start: number, end: number): void {
    for (let slot = floorPmd(start); slot < end; slot += PMD)
      if (slot >= start && slot + PMD <= end) this.pt.pteTables.delete(slot);
  }

  /**
   * 6.10+: madvise_populate on the whole range, the first hole fails. Before (`walk`), it
   * was a madvise_walk_vmas visitor: holes skipped, every VMA populated, ENOMEM at the end.
   */
  private madvisePopulate(start: number, end: number, write: boolean, walk: boolean): Result<0> {
    const tr = this.tracer;
    let tmp = start;
    let hole = false;
    for (let v = this.tree.findVma(start); v !== null && v.start < end; v = v.next) {
      if (v.start > tmp && !walk) return tr.fail('madvise_populate: hole', Errno.ENOMEM);
      hole ||= v.start > tmp;
      // mm/gup.c:__get_user_pages — under FOLL_MADV_POPULATE a check_vma_flags() failure
      // (no VM_WRITE for a write, no VM_READ for a read) is EINVAL, not EFAULT (5.14; 6.9 form).
      const ok_ = write ? (v.flags & VM.WRITE) !== 0 : (v.flags & VM.READ) !== 0;
      if (!ok_) return tr.fail('madvise_populate: check_vma_flags', Errno.EINVAL);
      const s = Math.max(v.start, start);
      const e = Math.min(v.end, end);
      for (let a = s; a < e; a += PAGE) {
        const pte = this.ptes.get(a / PAGE);
        if (pte !== undefined && !write) continue;
        if (
          pte !== undefined &&
          write &&
          ((v.flags & VM.SHARED) !== 0 ||
            (pte.fpage === null && !pte.zero && this.world.refs.get(pte.frame) === 1))
        )
          continue;
        const r = this.fault(v, a, write, null);
        if (!r.ok) return r;
      }
      tmp = e;
    }
    if (hole || tmp < end) return tr.fail('madvise_populate: unmapped', Errno.ENOMEM);
    return ok(0);
  }

  remap(args: RemapArgs): Result<bigint> {
    this.tracer.begin('mremap');
    return doMremap(this, args);
  }

  lock(addr: bigint, length: bigint, flags: number): Result<0> {
    const tr = this.tracer;
    tr.begin('mlock2');
    let e;
    if (
      (e = tr.check('mlock2: flags & ~MLOCK_ONFAULT', (flags & ~MLOCK.ONFAULT) !== 0, Errno.EINVAL))
    )
      return e;
    return this.doMlock(
      addr,
      length,
      VM.LOCKED | ((flags & MLOCK.ONFAULT) !== 0 ? VM.LOCKONFAULT : 0),
    );
  }

  unlock(addr: bigint, length: bigint): Result<0> {
    this.tracer.begin('munlock');
    return this.doMlock(addr, length, 0);
  }

  /** mm/mlock.c:do_mlock / apply_vma_lock_flags / mlock_fixup. */
  private doMlock(addr: bigint, length: bigint, lockFlags: number): Result<0> {
    const tr = this.tracer;
    let e;
    const lenB = pageAlignU64(length + (addr & 4095n));
    const startB = addr & ~4095n;
    if (lockFlags !== 0 && !this.mlockFutureOk(true, Number(lenB)))
      return tr.fail('do_mlock: RLIMIT_MEMLOCK', Errno.ENOMEM);
    const endB = startB + lenB;
    if ((e = tr.check('apply_vma_lock_flags: end < start', endB > U64, Errno.EINVAL))) return e;
    if (lenB === 0n) return ok(0);
    const start = Number(startB);
    const end = Number(endB);
    let vma = this.tree.lookup(start);
    if ((e = tr.check('apply_vma_lock_flags: no VMA at start', vma === null, Errno.ENOMEM)))
      return e;
    let tmp = vma!.start;
    while (vma !== null && vma.start < end) {
      if (vma.start !== tmp) return tr.fail('apply_vma_lock_flags: hole', Errno.ENOMEM);
      const tmpEnd = Math.min(vma.end, end);
      const newFlags = (vma.flags & ~VM_LOCKED_MASK) | lockFlags;
      let cur = vma;
      if (newFlags !== vma.flags && (vma.flags & VM_SPECIAL) === 0) {
        const s = Math.max(vma.start, start);
        const was = (vma.flags & VM.LOCKED) !== 0;
        const r = this.vmaModify(vma, s, tmpEnd, newFlags, vma.uffd);
        if (!r.ok) return r;
        cur = r.value;
        const now = (newFlags & VM.LOCKED) !== 0;
        if (now !== was) this.lockedVm += ((tmpEnd - s) / PAGE) * (now ? 1 : -1);
      }
      // apply_vma_lock_flags goes on from vma_iter_end(): past a next VMA the piece merged
      // with, which is then no hole.
      tmp = Math.max(tmpEnd, cur.end);
      vma = cur.next;
    }
    if (tmp < end) return tr.fail('apply_vma_lock_flags: range ends in a hole', Errno.ENOMEM);
    // mm/mlock.c:do_mlock — __mm_populate(start, len, 0) stops at the first VMA it cannot
    // populate; __mlock_posix_error_return turns EFAULT into ENOMEM (and ENOMEM into EAGAIN).
    // The VM_LOCKED flags set above stay.
    if ((lockFlags & VM.LOCKED) !== 0 && (lockFlags & VM.LOCKONFAULT) === 0) {
      const r = this.populate(start, end, false);
      if (!r.ok)
        return tr.fail(
          '__mlock_posix_error_return',
          r.code === 'EFAULT' ? Errno.ENOMEM : Errno.EAGAIN,
        );
    }
    return ok(0);
  }

  seal(addr: bigint, length: bigint): Result<0> {
    const tr = this.tracer;
    tr.begin('mseal');
    let e;
    if ((e = tr.check('sys_mseal: syscall exists', this.profile.mseal === 'none', Errno.ENOSYS)))
      return e;
    if ((e = tr.check('do_mseal: offset_in_page(start)', (addr & 4095n) !== 0n, Errno.EINVAL)))
      return e;
    const len = pageAlignU64(length);
    if ((e = tr.check('do_mseal: len_in && !len', length !== 0n && len === 0n, Errno.EINVAL)))
      return e;
    const endB = addr + len;
    if ((e = tr.check('do_mseal: end < start', endB > U64, Errno.EINVAL))) return e;
    if (len === 0n) return ok(0);
    const start = Number(addr);
    const end = Number(endB);
    // mm/mseal.c:range_contains_unmapped — the whole range must be mapped.
    let tmp = start;
    for (let v = this.tree.findVma(start); v !== null && v.start < end; v = v.next) {
      if (v.start > tmp) break;
      tmp = v.end;
    }
    if ((e = tr.check('do_mseal: range_contains_unmapped', tmp < end, Errno.ENOMEM))) return e;
    return this.applyFlags(
      start,
      end,
      'mseal_apply',
      (v) => ({ flags: v.flags | VM.SEALED, uffd: v.uffd }),
      Errno.ENOMEM,
      true,
    );
  }

  uffdRegister(addr: bigint, length: bigint): Result<0> {
    const tr = this.tracer;
    tr.begin('uffd_register');
    let e;
    // fs/userfaultfd.c:userfaultfd_register → validate_range.
    if (
      (e = tr.check(
        'validate_range: unaligned',
        (addr & 4095n) !== 0n || (length & 4095n) !== 0n,
        Errno.EINVAL,
      ))
    )
      return e;
    if ((e = tr.check('validate_range: !len', length === 0n, Errno.EINVAL))) return e;
    if (
      (e = tr.check(
        'validate_range: beyond TASK_SIZE',
        addr + length > this.o.taskSize,
        Errno.EINVAL,
      ))
    )
      return e;
    const start = Number(addr);
    const end = Number(addr + length);
    this.uffdCtx ??= this.world.nextUffd++;
    const ctx = this.uffdCtx;
    // fs/userfaultfd.c:userfaultfd_register — vma_find(&vmi, end): EINVAL only when no VMA
    // intersects the range. Holes before, between or after VMAs are not checked (never
    // were); userfaultfd_register_range arms each VMA's intersection.
    const first = this.tree.findVma(start);
    if (
      (e = tr.check(
        'userfaultfd_register: no VMA in range',
        first === null || first.start >= end,
        Errno.EINVAL,
      ))
    )
      return e;
    // hugetlb: the first VMA's start and the end inside a hugetlb VMA must be huge-aligned.
    const hsize = (v: Vma): number => v.special?.splitAlign ?? PMD;
    if ((first!.flags & VM.HUGETLB) !== 0 && start % hsize(first!) !== 0)
      return tr.fail('userfaultfd_register: hugetlb start alignment', Errno.EINVAL);
    for (let v: Vma | null = first; v !== null && v.start < end; v = v.next) {
      // vma_can_userfault (MISSING): anonymous, shmem or hugetlb; not special mappings.
      if (v.special !== null && (v.flags & VM.HUGETLB) === 0)
        return tr.fail('vma_can_userfault', Errno.EINVAL);
      if ((v.flags & VM.HUGETLB) !== 0 && end <= v.end && end % hsize(v) !== 0)
        return tr.fail('userfaultfd_register: hugetlb end alignment', Errno.EINVAL);
      if (v.uffd !== null && v.uffd !== ctx)
        return tr.fail('userfaultfd_register: other ctx', Errno.EBUSY);
    }
    return this.applyFlags(
      start,
      end,
      'userfaultfd_register',
      (v) => ({ flags: v.flags | VM.UFFD_MISSING, uffd: ctx }),
      null,
      false,
    );
  }

  memfd(size: bigint): Result<FileId> {
    this.tracer.begin('memfd_create');
    const f = new FileObj(this.world.nextFile++, 'file', Number(size));
    this.files.set(f.id, f);
    return ok(f.id);
  }

  /**
   * The checks a user access passes before handle_mm_fault does anything (arch/x86/mm/fault.c:
   * a VMA must cover the address, then access_error()): else SIGSEGV, reported as EFAULT.
   */
  private accessVma(addr: bigint, op: string, need: number, what: string): Vma | Err {
    const tr = this.tracer;
    tr.begin(op);
    const vma = addr > this.o.taskSize ? null : this.tree.lookup(Number(addr & ~4095n));
    return (
      tr.check('handle_mm_fault: no VMA (SIGSEGV)', vma === null, Errno.EFAULT) ??
      tr.check(`access_error: !${what} (SIGSEGV)`, (vma!.flags & need) === 0, Errno.EFAULT) ??
      vma!
    );
  }

  touch(addr: bigint, tag: bigint): Result<0> {
    const vma = this.accessVma(addr, 'touch', VM.WRITE, 'VM_WRITE');
    if ('ok' in vma) return vma;
    return this.fault(vma, Number(addr & ~4095n), true, tag & U64);
  }

  read(addr: bigint): Result<bigint> {
    // vma_is_accessible: on x86 any of read/write/exec permits a load.
    const vma = this.accessVma(addr, 'read', VM.READ | VM.WRITE | VM.EXEC, 'VM_READ');
    if ('ok' in vma) return vma;
    const a = Number(addr & ~4095n);
    const r = this.fault(vma, a, false, null);
    if (!r.ok) return r;
    const pte = this.ptes.get(a / PAGE)!;
    if ((addr & 4095n) >= 8n) return ok(0n);
    return ok(pte.fpage !== null ? pte.fpage.tag : pte.tag);
  }

  /** fork() that returns the child's ModelSpace (kernel/fork.c:dup_mmap). */
  forkSpace(): ModelSpace {
    this.tracer.begin('fork');
    const child = new ModelSpace({ ...this.optionsForChild() }, this.world);
    child.files = new Map(this.files);
    child.uffdCtx = null;
    for (const v of this.tree) {
      if ((v.flags & VM.DONTCOPY) !== 0) continue;
      const c = v.dup(v.start, v.end, v.pgoff);
      // dup_mmap: VM_LOCKED is not inherited; uffd registration is dropped without EVENT_FORK.
      c.flags &= ~(VM_LOCKED_MASK | VM.UFFD_MISSING);
      c.uffd = null;
      const wipe = (v.flags & VM.WIPEONFORK) !== 0;
      if (v.anonVma !== null && !wipe) {
        // mm/rmap.c:anon_vma_fork — a new anon_vma whose parent is the parent's; chain grows by one.
        const av = new AnonVma(v.anonVma);
        v.anonVma.numChildren++;
        child.forkAnonVmas.push(av);
        c.anonVma = av;
        c.chainLen = v.chainLen + 1;
      } else {
        c.anonVma = null;
        c.chainLen = 0;
      }
      child.tree.insert(c);
      // copy_page_range: only VMAs with an anon_vma (vma_needs_copy) get PTEs copied,
      // guard markers included (copy_nonpresent_pte).
      if (v.anonVma !== null && !wipe) {
        for (let p = v.start / PAGE; p < v.end / PAGE; p++)
          if (this.guards.has(p)) {
            child.guards.add(p);
            child.pt.pmdTables.add(floorPud(p * PAGE));
            child.pt.pteTables.add(floorPmd(p * PAGE));
          }
        this.forEachPte(v.start, v.end, (pn, pte) => {
          if (pte.fpage === null && !pte.zero) this.world.get(pte.frame);
          child.ptes.set(pn, { ...pte });
          const a = pn * PAGE;
          child.pt.pmdTables.add(floorPud(a));
          if (this.pt.hugePmds.has(floorPmd(a))) child.pt.hugePmds.add(floorPmd(a));
          else child.pt.pteTables.add(floorPmd(a));
        });
      }
    }
    return child;
  }

  private optionsForChild(): ModelSpaceOptions {
    const o: ModelSpaceOptions = {
      profile: this.profile,
      window: { start: BigInt(this.o.windowStart), end: BigInt(this.o.windowEnd) },
      maxMapCount: this.o.maxMapCount,
      otherMapCount: this.o.otherMapCount,
      thp: this.o.thp,
      haveMovePmd: this.o.haveMovePmd,
      haveMovePud: this.o.haveMovePud,
      taskSize: this.o.taskSize,
      mmapMinAddr: this.o.mmapMinAddr,
      overcommit: this.o.overcommit,
      trace: this.o.trace,
      traits: this.o.traits,
    };
    if (this.o.placeUnfixed !== undefined) o.placeUnfixed = this.o.placeUnfixed;
    if (this.o.rlimitAs !== undefined) o.rlimitAs = this.o.rlimitAs;
    if (this.o.rlimitMemlock !== undefined) o.rlimitMemlock = this.o.rlimitMemlock;
    return o;
  }

  fork(): Result<ChildId> {
    const child = this.forkSpace();
    const id = this.world.nextChild++;
    this.children.set(id, child);
    return ok(id);
  }

  /** The ModelSpace of a child made by fork(), to continue steps inside it. */
  child(id: ChildId): ModelSpace | undefined {
    return this.children.get(id);
  }

  release(child: ChildId): Result<0> {
    this.tracer.begin('release');
    const c = this.children.get(child);
    if (c === undefined) return this.tracer.fail('release: no such child', Errno.ESRCH);
    c.exit();
    this.children.delete(child);
    return ok(0);
  }

  /** exit_mmap: frees pages and unlinks fork anon_vmas (parents' num_children drop). */
  exit(): void {
    if (this.dead) return;
    this.dead = true;
    this.world.spaces.delete(this);
    for (const [pn, pte] of this.ptes) this.dropPte(pn, pte);
    const seen = new Set<AnonVma>();
    for (const v of this.tree) if (v.anonVma !== null) seen.add(v.anonVma);
    for (const av of this.forkAnonVmas) seen.add(av);
    for (const av of seen) if (av.parent !== null) av.parent.numChildren--;
    for (const c of this.children.values()) c.exit();
  }

  /** Installs a vdso-like special mapping (VM_DONTEXPAND, refuses splits) for tests. */
  installSpecialMapping(addr: bigint, length: bigint, name = '[vdso]'): Vma {
    const v = new Vma(
      Number(addr),
      Number(addr + length),
      VM.READ | VM.EXEC | VM.MAYREAD | VM.MAYEXEC | VM.DONTEXPAND,
      null,
      0,
    );
    v.special = { name, refuseSplit: true };
    this.tree.insert(v);
    return v;
  }

  snapshot(start: bigint, end: bigint, opts?: SnapshotOptions): Snapshot {
    const s = Number(start);
    const e = Number(end);
    const vmas: VmaView[] = [];
    for (let v = this.tree.findVma(s); v !== null && v.start < e; v = v.next) {
      const view: VmaView = {
        start: BigInt(v.start),
        end: BigInt(v.end),
        prot: protString(
          ((v.flags & VM.READ) !== 0 ? PROT.READ : 0) |
            ((v.flags & VM.WRITE) !== 0 ? PROT.WRITE : 0) |
            ((v.flags & VM.EXEC) !== 0 ? PROT.EXEC : 0),
        ),
        shared: (v.flags & VM.MAYSHARE) !== 0,
        kind: v.file === null ? 'anon' : v.file.kind,
        offset: v.file === null ? 0n : BigInt(v.pgoff) * 4096n,
      };
      if (opts?.vmFlags === true) {
        // fs/proc/task_mmu.c:show_smap_vma_flags prints only the mnemonics this build knows.
        const known = this.o.traits.vmflagMnemonics;
        const all = vmFlagMnemonics(v.flags);
        view.vmFlags = known === null ? all : all.filter((m) => known.includes(m));
      }
      vmas.push(view);
    }
    const pages: PageView[] = [];
    if (opts?.pages !== false) {
      for (let a = s; a < e; a += PAGE) {
        const pte = this.ptes.get(a / PAGE);
        if (pte === undefined) {
          pages.push({
            addr: BigInt(a),
            present: false,
            frame: null,
            tag: null,
            thp: false,
            zero: false,
          });
        } else {
          pages.push({
            addr: BigInt(a),
            present: true,
            frame: BigInt(pte.frame),
            tag: pte.fpage !== null ? pte.fpage.tag : pte.tag,
            // PageView.thp is page-table state: the slot is a huge PMD (not folio size).
            thp: this.pt.hugePmds.has(floorPmd(a)),
            zero: pte.zero,
          });
        }
      }
    }
    return { start, end, vmas, pages };
  }
}

/** mm/rmap.c:anon_vma_compatible(a, b) — a directly below b, reusable anon_vma. */
export function anonVmaCompatible(a: Vma, b: Vma): boolean {
  return (
    a.end === b.start &&
    a.file === b.file &&
    ((a.flags ^ b.flags) & ~(VM.READ | VM.WRITE | VM.EXEC | VM.SOFTDIRTY)) === 0 &&
    b.pgoff === a.pgoff + a.pages
  );
}
