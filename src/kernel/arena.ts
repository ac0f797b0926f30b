/**
 * Arenas: the only memory the tool changes. An arena is reserved PROT_NONE with
 * MAP_FIXED_NOREPLACE at a hint far below mmap_base: the kernel's top-down allocator
 * (vm_unmapped_area with high_limit = mmap_base) takes the highest gap that fits, so
 * allocations by V8 and libuv land far above and never in holes the tool opens here.
 * A guard page of PROT_NONE stays mapped on each side for the arena's whole life, so an
 * in-place growth can never run past the arena's end.
 */
import { ARENA_ALIGN_MAX, arenaAlignProblem } from '../space/arena-align.js';
import { MAP, PAGE_SIZE, PROT } from '../space/constants.js';
import { ArenaError, hex, requireU64 } from './errors.js';
import { queryWindow } from './procmap-query.js';
import { RangeSet, type Span } from './ranges.js';
import { sys } from './syscalls.js';

export interface ArenaOptions {
  /** Usable bytes (a multiple of the page size). */
  size: bigint;
  /** Alignment of the usable start: a power of two ≥ 4096, up to 1 GiB. Default 2 MiB. */
  align?: bigint;
  /**
   * 'reserved' (default): the interior stays PROT_NONE until mapped over.
   * 'empty': the interior is unmapped, so it is a real hole (needed for in-place growth).
   */
  interior?: 'reserved' | 'empty';
}

const GUARD = PAGE_SIZE;
/** 16 TiB: far below a 47-bit mmap_base (~128 TiB), far above brk and the binary. */
const HINT_BASE = 0x1000_0000_0000n;
const MAX_ALIGN = ARENA_ALIGN_MAX;
const SLOT_SPAN = 48n << 40n;

function roundUp(v: bigint, to: bigint): bigint {
  return ((v + to - 1n) / to) * to;
}
const live = new Set<Arena>();

/** The mapped parts of [start, end) in this process. */
function mappedIn(start: bigint, end: bigint): Span[] {
  const w = queryWindow(process.pid, start, end, { names: false });
  if (!w.ok) throw new Error(`cannot read this process's mappings: ${w.code}`);
  const out: Span[] = [];
  for (let i = 0; i < w.value.count; i++) {
    out.push({ start: w.value.cols.start[i]!, end: w.value.cols.end[i]! });
  }
  return out;
}

export class Arena {
  private released = false;
  /** Ranges outside [start, end) that the kernel chose for memory moved out of the arena. */
  private readonly adopted = new RangeSet();

  private constructor(
    readonly start: bigint,
    readonly end: bigint,
  ) {}

  get size(): bigint {
    return this.end - this.start;
  }

  static reserve(opts: ArenaOptions): Arena {
    const size = requireU64('size', opts.size);
    const align = requireU64('align', opts.align ?? 2n * 1024n * 1024n);
    if (size === 0n || size % PAGE_SIZE !== 0n) {
      throw new RangeError(`size must be a positive multiple of 4096 (got ${size})`);
    }
    if (size > 1n << 40n) throw new RangeError(`size must be at most 1 TiB (got ${size})`);
    const problem = arenaAlignProblem(align);
    if (problem !== null) throw new RangeError(`align: ${problem}`);
    // Slots of at least 32 GiB in [16 TiB, 64 TiB), starting at one picked from the pid, so
    // concurrent test processes rarely collide; NOREPLACE turns a collision into EEXIST and
    // we try the next slot.
    const stride = roundUp(size + MAX_ALIGN, 32n << 30n);
    const slots = SLOT_SPAN / stride;
    const first = BigInt(process.pid) % slots;
    for (let i = 0n; i < 256n && i < slots; i++) {
      const usable = roundUp(HINT_BASE + ((first + i) % slots) * stride + GUARD, align);
      const lo = usable - GUARD;
      const r = sys.mmap(
        lo,
        size + 2n * GUARD,
        PROT.NONE,
        MAP.PRIVATE | MAP.ANONYMOUS | MAP.NORESERVE | MAP.FIXED_NOREPLACE,
      );
      if (!r.ok) {
        if (r.code === 'EEXIST') continue;
        throw new Error(`cannot reserve an arena of ${size} bytes at ${hex(lo)}: ${r.code}`);
      }
      if (r.value !== lo) {
        // Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat it as a hint.
        sys.munmap(r.value, size + 2n * GUARD);
        continue;
      }
      const arena = new Arena(usable, usable + size);
      if (opts.interior === 'empty') {
        const u = sys.munmap(usable, size);
        if (!u.ok) throw new Error(`cannot empty the arena at ${hex(usable)}: ${u.code}`);
      }
      live.add(arena);
      return arena;
    }
    throw new Error(`no free slot for an arena of ${size} bytes below ${hex(HINT_BASE)}`);
  }

  /** True if [addr, addr+len) lies inside the arena or a range it adopted. */
  contains(addr: bigint, length: bigint): boolean {
    if (this.released) return false;
    const end = addr + (length === 0n ? 1n : length);
    if (addr >= this.start && end <= this.end) return true;
    return this.adopted.covers(addr, end);
  }

  /** Throws ArenaError (before any syscall) unless [addr, addr+len) is the arena's. */
  check(what: string, addr: bigint, length: bigint, extra?: RangeSet): void {
    const end = addr + (length === 0n ? 1n : length);
    if (!this.released && addr >= this.start && end <= this.end) return;
    // An adopted range is ours only while our mapping is there: look before trusting it.
    this.verifyAdopted(extra);
    if (this.contains(addr, length) || (!this.released && extra?.covers(addr, end) === true)) {
      return;
    }
    throw new ArenaError(
      `${what}: [${hex(addr)}, ${hex(addr + length)}) is outside the arena ` +
        `[${hex(this.start)}, ${hex(this.end)})${this.released ? ' (released)' : ''}; ` +
        'use addresses inside the arena, or the documented `unsafe` syscalls',
      addr,
      length,
    );
  }

  /**
   * Memory the kernel moved out of the arena (a MAYMOVE without FIXED lands wherever
   * get_unmapped_area says) still belongs to the tool while it is mapped: adopt it so later
   * calls may use it and release() unmaps it. `into` holds a fork child's adoptions (they
   * are in the child's address space, never this one's).
   */
  adopt(addr: bigint, length: bigint, into?: RangeSet): void {
    if (addr >= this.start && addr + length <= this.end) return;
    (into ?? this.adopted).add(addr, addr + length);
  }

  /** The tool unmapped or moved away [addr, addr+len): what was adopted there is not ours. */
  disown(addr: bigint, length: bigint, from?: RangeSet): void {
    (from ?? this.adopted).remove(addr, addr + length);
  }

  /**
   * Keeps only the adopted parts still mapped in this process (/proc/self/maps, through
   * PROCMAP_QUERY where it exists). A child's set (`extra`) is the child's to check.
   */
  private verifyAdopted(extra?: RangeSet): void {
    if (extra !== undefined || this.adopted.empty) return;
    const mapped: Span[] = [];
    for (const a of this.adopted.list) mapped.push(...mappedIn(a.start, a.end));
    mapped.sort((x, y) => (x.start < y.start ? -1 : 1));
    this.adopted.intersect(mapped);
  }

  /** The page-aligned address `pages` pages into the arena. */
  page(pages: number | bigint): bigint {
    return this.start + BigInt(pages) * PAGE_SIZE;
  }

  /** Unmaps the arena whole (guards and adopted ranges too). Idempotent. */
  release(): void {
    if (this.released) return;
    this.verifyAdopted();
    this.released = true;
    live.delete(this);
    sys.munmap(this.start - GUARD, this.size + 2n * GUARD);
    for (const a of this.adopted.list) sys.munmap(a.start, a.end - a.start);
    this.adopted.clear();
  }

  /** Re-establishes a fresh, empty interior (keeps the guards): a scenario's starting state. */
  reset(interior: 'reserved' | 'empty' = 'empty'): void {
    if (this.released) throw new Error('reset: the arena was released');
    this.verifyAdopted();
    for (const a of this.adopted.list) sys.munmap(a.start, a.end - a.start);
    this.adopted.clear();
    const r =
      interior === 'empty'
        ? sys.munmap(this.start, this.size)
        : sys.mmap(
            this.start,
            this.size,
            PROT.NONE,
            MAP.PRIVATE | MAP.ANONYMOUS | MAP.NORESERVE | MAP.FIXED,
          );
    if (!r.ok) throw new Error(`reset of the arena at ${hex(this.start)} failed: ${r.code}`);
    // Fresh guards too: a run may have merged a faulted mapping into a guard, which then
    // carries an anon_vma (and after fork, a fork child's chain) that changes later merges.
    const guardFlags = MAP.PRIVATE | MAP.ANONYMOUS | MAP.NORESERVE | MAP.FIXED;
    for (const g of [this.start - GUARD, this.end]) {
      const m = sys.mmap(g, GUARD, PROT.NONE, guardFlags);
      if (!m.ok) throw new Error(`reset of the guard at ${hex(g)} failed: ${m.code}`);
    }
  }

  static liveArenas(): readonly Arena[] {
    return [...live];
  }
}

/** Finds the live arena holding [addr, addr+len), if any. */
export function arenaOf(addr: bigint, length: bigint): Arena | undefined {
  for (const a of live) if (a.contains(addr, length)) return a;
  return undefined;
}

process.on('exit', () => {
  for (const a of [...live]) a.release();
});
