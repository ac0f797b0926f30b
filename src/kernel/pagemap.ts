/**
 * /proc/PID/pagemap (fs/proc/task_mmu.c:pagemap_read, pte_to_pagemap_entry): one u64 per
 * virtual page. Read with one pread and decoded in C++ into two typed arrays; nothing here
 * creates a per-page object unless asked for (runs(), page()).
 */
import { native } from '../native.js';
import { err, ok, type Result } from '../space/result.js';

/** Raw entry bits (Documentation/admin-guide/mm/pagemap.rst). */
export const PM = {
  PFN_MASK: (1n << 55n) - 1n,
  SOFT_DIRTY: 1n << 55n,
  MMAP_EXCLUSIVE: 1n << 56n,
  UFFD_WP: 1n << 57n,
  /** v6.15: guard region marker (MADV_GUARD_INSTALL). */
  GUARD_REGION: 1n << 58n,
  FILE: 1n << 61n,
  SWAP: 1n << 62n,
  PRESENT: 1n << 63n,
} as const;

/** Decoded state bits, one byte per page (native/procfs.cc kPg*). */
export const PG = {
  PRESENT: 1,
  SWAPPED: 2,
  /** File page or shared anon (not an anonymous page). */
  FILE: 4,
  /** Mapped exactly once (never set for the zero page: no struct page is looked up). */
  EXCLUSIVE: 8,
  SOFT_DIRTY: 16,
  UFFD_WP: 32,
  GUARD: 64,
  /** Present but the PFN field reads 0: the opener lacks CAP_SYS_ADMIN (frame 0 is never user memory). */
  PFN_HIDDEN: 128,
} as const;

const PG_NAMES: readonly [number, string][] = [
  [PG.PRESENT, 'present'],
  [PG.SWAPPED, 'swapped'],
  [PG.FILE, 'file'],
  [PG.EXCLUSIVE, 'exclusive'],
  [PG.SOFT_DIRTY, 'soft-dirty'],
  [PG.UFFD_WP, 'uffd-wp'],
  [PG.GUARD, 'guard'],
  [PG.PFN_HIDDEN, 'pfn-hidden'],
];

/** ['present', 'exclusive'] style names of a state byte. */
export function stateNames(state: number): string[] {
  return PG_NAMES.filter(([bit]) => (state & bit) !== 0).map(([, name]) => name);
}

/** Decodes one raw entry the same way the native loop does (for tests and tools). */
export function decodeEntry(raw: bigint): { state: number; pfn: bigint | null } {
  let state = 0;
  if (raw & PM.PRESENT) state |= PG.PRESENT;
  if (raw & PM.SWAP) state |= PG.SWAPPED;
  if (raw & PM.FILE) state |= PG.FILE;
  if (raw & PM.MMAP_EXCLUSIVE) state |= PG.EXCLUSIVE;
  if (raw & PM.SOFT_DIRTY) state |= PG.SOFT_DIRTY;
  if (raw & PM.UFFD_WP) state |= PG.UFFD_WP;
  if (raw & PM.GUARD_REGION) state |= PG.GUARD;
  const f = raw & PM.PFN_MASK;
  let pfn: bigint | null = null;
  if (state & (PG.PRESENT | PG.SWAPPED)) {
    if (f !== 0n) pfn = f;
    else if (state & PG.PRESENT) state |= PG.PFN_HIDDEN;
  }
  return { state, pfn };
}

export const PAGE = 4096n;

/** Decoded pagemap of [addr, addr + count pages). */
export interface PagemapRange {
  addr: bigint;
  count: number;
  /** PG bits per page. */
  state: Uint8Array;
  /** PFN (present, visible) or non-zero swap payload (swapped), else -1. */
  pfn: Float64Array;
}

export interface PageRun {
  start: bigint;
  end: bigint;
  pages: number;
  state: number;
  /** First PFN of the run when PFNs are visible and consecutive across it, else null. */
  firstPfn: number | null;
}

/** Runs of a fd-less call: opens /proc/PID/pagemap, reads, closes. */
export function withPagemapFd<T>(pid: number, fn: (fd: number) => Result<T>): Result<T> {
  const o = native.procOpen(pid, 'pagemap');
  if (!o.ok) return err(o.errno);
  try {
    return fn(o.value);
  } finally {
    native.procClose(o.value);
  }
}

function checkRange(start: bigint, end: bigint): number {
  if (start % PAGE !== 0n || end % PAGE !== 0n || end < start) {
    throw new RangeError(`pagemap range must be page aligned and ordered: ${start}-${end}`);
  }
  return Number((end - start) / PAGE);
}

/** Decoded pagemap of [start, end) through an open pagemap fd. Outputs may be reused. */
export function readPagemapFd(
  fd: number,
  start: bigint,
  end: bigint,
  out?: { state: Uint8Array; pfn: Float64Array },
): Result<PagemapRange> {
  const count = checkRange(start, end);
  const state = out && out.state.length >= count ? out.state : new Uint8Array(count);
  const pfn = out && out.pfn.length >= count ? out.pfn : new Float64Array(count);
  const r = native.pagemapDecode(fd, start, count, state, pfn);
  if (!r.ok) return err(r.errno);
  return ok({ addr: start, count, state, pfn });
}

/** Decoded pagemap of [start, end) of pid. */
export function readPagemap(pid: number, start: bigint, end: bigint): Result<PagemapRange> {
  return withPagemapFd(pid, (fd) => readPagemapFd(fd, start, end));
}

/** Raw entries of [start, end) of pid (one pread into the returned array). */
export function readPagemapRaw(pid: number, start: bigint, end: bigint): Result<BigUint64Array> {
  const count = checkRange(start, end);
  return withPagemapFd(pid, (fd) => {
    const out = new BigUint64Array(count);
    const r = native.pagemapRead(fd, start, count, out);
    return r.ok ? ok(out.subarray(0, r.value)) : err(r.errno);
  });
}

/**
 * Runs of pages with the same state; a run also breaks where visible PFNs stop being
 * consecutive (so a moved or freshly faulted block shows up as its own run).
 */
export function pageRuns(pm: PagemapRange, splitOnPfn = true): PageRun[] {
  const runs: PageRun[] = [];
  let i = 0;
  while (i < pm.count) {
    const s = pm.state[i]!;
    const p0 = pm.pfn[i]!;
    let j = i + 1;
    while (
      j < pm.count &&
      pm.state[j] === s &&
      (!splitOnPfn || p0 < 0 || s & PG.SWAPPED || pm.pfn[j] === p0 + (j - i))
    ) {
      j++;
    }
    const contiguous = p0 >= 0 && (s & PG.SWAPPED) === 0 && splitOnPfn;
    runs.push({
      start: pm.addr + BigInt(i) * PAGE,
      end: pm.addr + BigInt(j) * PAGE,
      pages: j - i,
      state: s,
      firstPfn: contiguous ? p0 : null,
    });
    i = j;
  }
  return runs;
}

/** Indices of present pages. */
export function presentIndices(pm: PagemapRange): number[] {
  const out: number[] = [];
  for (let i = 0; i < pm.count; i++) if (pm.state[i]! & PG.PRESENT) out.push(i);
  return out;
}
