/**
 * Arenas: the only memory the tool changes. An arena is claimed with one PROT_NONE
 * MAP_FIXED_NOREPLACE reservation in [16 TiB, 64 TiB). That range is not safe from the
 * rest of the process: V8 places its heap pages at random mmap hints over the whole 47-bit
 * space (a running bench had hundreds of V8 VMAs there), and a hinted mmap lands wherever
 * the hinted range is free. So an arena never leaves a hole another thread could fill:
 *  - every unused page is covered by a placeholder (kernel/holes.ts) that snapshots leave
 *    out, so an 'empty' interior still looks and behaves like holes to the scenario;
 *  - the tool empties and clears with MAP_FIXED over its own pages (an atomic replace), and
 *    re-covers whatever a call left empty right after the call (fill());
 *  - it unmaps nothing it cannot show is its own: not a range it adopted once but whose
 *    mapping is gone, not a mapping that appeared in a hole it had to open for a call.
 * A guard page of PROT_NONE stays mapped on each side for the arena's whole life, so an
 * in-place growth can never run past the arena's end.
 */
import { ARENA_ALIGN_MAX, arenaAlignProblem } from '../space/arena-align.js';
import {
  ARENA_GUARD as GUARD,
  ARENA_HINT_BASE as HINT_BASE,
  ARENA_RESERVE_FLAGS as RESERVE_FLAGS,
  arenaGuards,
} from '../space/arena-guards.js';
import { MAP, PAGE_SIZE, PROT } from '../space/constants.js';
import { ArenaError, hex, requireU64 } from './errors.js';
import { isHoleName, placeHole } from './holes.js';
import { queryWindow } from './procmap-query.js';
import { gaps, RangeSet, type Span } from './ranges.js';
import { sys } from './syscalls.js';

export interface ArenaOptions {
  /** Usable bytes (a multiple of the page size). */
  size: bigint;
  /** Alignment of the usable start: a power of two ≥ 4096, up to 1 GiB. Default 2 MiB. */
  align?: bigint;
  /**
   * 'reserved' (default): the interior stays PROT_NONE until mapped over.
   * 'empty': the interior is holes (needed for in-place growth) as far as any call of the
   * tool can tell; each is covered by a placeholder between calls.
   */
  interior?: 'reserved' | 'empty';
}

const MAX_ALIGN = ARENA_ALIGN_MAX;
const SLOT_SPAN = 48n << 40n;

function roundUp(v: bigint, to: bigint): bigint {
  return ((v + to - 1n) / to) * to;
}
const live = new Set<Arena>();

interface Vma extends Span {
  hole: boolean;
}

/** The VMAs of this process intersecting [start, end), placeholders marked. */
function vmasOf(start: bigint, end: bigint): Vma[] {
  const w = queryWindow(process.pid, start, end, { names: true });
  if (!w.ok) throw new Error(`cannot read this process's mappings: ${w.code}`);
  const t = w.value;
  const out: Vma[] = [];
  for (let i = 0; i < t.count; i++) {
    out.push({ start: t.cols.start[i]!, end: t.cols.end[i]!, hole: isHoleName(t.name(i)) });
  }
  return out;
}

export class Arena {
  private released = false;
  /** Ranges outside [start, end) that the kernel chose for memory moved out of the arena. */
  private readonly adopted = new RangeSet();
  /** Mappings that appeared in a hole the tool opened: someone else's, never touched. */
  private readonly foreign = new RangeSet();

  private constructor(
    readonly start: bigint,
    readonly end: bigint,
    private interior: 'reserved' | 'empty',
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
      const r = sys.mmap(lo, size + 2n * GUARD, PROT.NONE, RESERVE_FLAGS | MAP.FIXED_NOREPLACE);
      if (!r.ok) {
        if (r.code === 'EEXIST') continue;
        throw new Error(`cannot reserve an arena of ${size} bytes at ${hex(lo)}: ${r.code}`);
      }
      if (r.value !== lo) {
        // Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat it as a hint.
        sys.munmap(r.value, size + 2n * GUARD);
        continue;
      }
      const interior = opts.interior ?? 'reserved';
      const arena = new Arena(usable, usable + size, interior);
      if (interior === 'empty') {
        // Over our own reservation, atomically: the interior is never a hole.
        const h = placeHole(usable, size, true);
        if (!h.ok) {
          sys.munmap(lo, size + 2n * GUARD);
          throw new Error(`cannot empty the arena at ${hex(usable)}: ${h.code}`);
        }
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
    for (const a of this.adopted.list) {
      for (const v of vmasOf(a.start, a.end)) if (!v.hole) mapped.push(v);
    }
    mapped.sort((x, y) => (x.start < y.start ? -1 : 1));
    this.adopted.intersect(mapped);
  }

  /** The page-aligned address `pages` pages into the arena. */
  page(pages: number | bigint): bigint {
    return this.start + BigInt(pages) * PAGE_SIZE;
  }

  /**
   * For an 'empty' arena: takes the placeholders out of `ranges` (clipped to the arena),
   * so the next call sees the holes they stand for. Call fill() right after that call.
   */
  open(ranges: readonly Span[]): void {
    if (this.interior !== 'empty' || this.released) return;
    for (const r of ranges) {
      // Whole pages: a call with a misaligned address still looks up the pages it touches.
      const rs = r.start - (r.start % PAGE_SIZE);
      const re = r.end + ((PAGE_SIZE - (r.end % PAGE_SIZE)) % PAGE_SIZE);
      const s = rs > this.start ? rs : this.start;
      const e = re < this.end ? re : this.end;
      if (s >= e) continue;
      for (const v of vmasOf(s, e)) {
        if (!v.hole) continue;
        sys.munmap(
          v.start > s ? v.start : s,
          (v.end < e ? v.end : e) - (v.start > s ? v.start : s),
        );
      }
    }
  }

  /**
   * For an 'empty' arena: covers every hole in it with a placeholder. NOREPLACE never
   * touches a mapping; a hole that is filled meanwhile by someone else is recorded as
   * foreign and left alone for good.
   */
  fill(): void {
    if (this.interior !== 'empty' || this.released) return;
    for (let round = 0; round < 2; round++) {
      let raced = false;
      for (const g of gaps(this.start, this.end, vmasOf(this.start, this.end))) {
        const r = placeHole(g.start, g.end - g.start, false);
        if (r.ok) continue;
        if (r.code !== 'EEXIST') throw new Error(`cannot re-cover ${hex(g.start)}: ${r.code}`);
        raced = true;
        for (const v of vmasOf(g.start, g.end)) {
          if (!v.hole)
            this.foreign.add(v.start > g.start ? v.start : g.start, v.end < g.end ? v.end : g.end);
        }
      }
      if (!raced) return;
    }
  }

  /** Pieces of [start, end) that are not foreign: ours to replace or unmap. */
  private owned(): Span[] {
    return gaps(this.start, this.end, this.foreign.list);
  }

  /** Unmaps the arena whole (guards, adopted ranges still mapped). Idempotent. */
  release(): void {
    if (this.released) return;
    this.verifyAdopted();
    this.released = true;
    live.delete(this);
    for (const [gs, ge] of arenaGuards(this.start, this.end)) sys.munmap(gs, ge - gs);
    for (const o of this.owned()) sys.munmap(o.start, o.end - o.start);
    for (const a of this.adopted.list) sys.munmap(a.start, a.end - a.start);
    this.adopted.clear();
  }

  /** Re-establishes a fresh interior (keeps the guards): a scenario's starting state. */
  reset(interior: 'reserved' | 'empty' = 'empty'): void {
    if (this.released) throw new Error('reset: the arena was released');
    this.verifyAdopted();
    for (const a of this.adopted.list) sys.munmap(a.start, a.end - a.start);
    this.adopted.clear();
    this.interior = interior;
    // MAP_FIXED over our own pages replaces them atomically: no hole opens on the way.
    for (const o of this.owned()) {
      const r =
        interior === 'empty'
          ? placeHole(o.start, o.end - o.start, true)
          : sys.mmap(o.start, o.end - o.start, PROT.NONE, RESERVE_FLAGS | MAP.FIXED);
      if (!r.ok) throw new Error(`reset of the arena at ${hex(o.start)} failed: ${r.code}`);
    }
    // Fresh guards too: a run may have merged a faulted mapping into a guard, which then
    // carries an anon_vma (and after fork, a fork child's chain) that changes later merges.
    for (const [gs, ge] of arenaGuards(this.start, this.end)) {
      const m = sys.mmap(gs, ge - gs, PROT.NONE, RESERVE_FLAGS | MAP.FIXED);
      if (!m.ok) throw new Error(`reset of the guard at ${hex(gs)} failed: ${m.code}`);
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
