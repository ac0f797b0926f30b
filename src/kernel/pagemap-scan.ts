/**
 * PAGEMAP_SCAN (v6.7, fs/proc/task_mmu.c:do_pagemap_scan): the kernel walks the range and
 * returns coalesced regions of equal categories, so sparse ranges cost one ioctl instead of
 * one u64 per page. Read-only use here: no PM_SCAN_WP_MATCHING, which would write-protect.
 *
 * [6.18 observed] a pte_none slot inside an existing PTE table reports WRITTEN without
 * PRESENT (pagemap_page_category treats a none PTE as "not uffd-wp", hence written), while a
 * range with no page table at all reports nothing. Compare PRESENT, not WRITTEN.
 */
import { native } from '../native.js';
import { err, ok, type Result } from '../space/result.js';
import { withPagemapFd } from './pagemap.js';

export const PAGE_IS = {
  WPALLOWED: 1 << 0,
  WRITTEN: 1 << 1,
  FILE: 1 << 2,
  PRESENT: 1 << 3,
  SWAPPED: 1 << 4,
  PFNZERO: 1 << 5,
  HUGE: 1 << 6,
  /** 6.8 */
  SOFT_DIRTY: 1 << 7,
  /** 6.15 */
  GUARD: 1 << 8,
} as const;

/** Every category 6.18 knows (unknown bits → EINVAL). */
export const PAGE_IS_ALL = 0x1ff;

export interface ScanRegion {
  start: bigint;
  end: bigint;
  categories: number;
}

export interface ScanOptions {
  /** Categories that must all be set (after inversion). Default 0. */
  mask?: number;
  /** At least one of these (after inversion). Default 0 = no condition. */
  anyof?: number;
  inverted?: number;
  /** Categories reported per region. Default PAGE_IS_ALL. */
  returnMask?: number;
  /** Regions per ioctl. Default 512. */
  vecLen?: number;
}

/** Category names of a mask, in bit order. */
export function categoryNames(c: number): string[] {
  return Object.entries(PAGE_IS)
    .filter(([, bit]) => (c & bit) !== 0)
    .map(([n]) => n);
}

/**
 * Scans [start, end) of an open pagemap fd, repeating the ioctl from walk_end until the range
 * is done. ENOTTY/EINVAL: no PAGEMAP_SCAN (pre-6.7).
 */
export function scanFd(
  fd: number,
  start: bigint,
  end: bigint,
  opts: ScanOptions = {},
): Result<ScanRegion[]> {
  const vecLen = opts.vecLen ?? 512;
  const vec = new BigUint64Array(vecLen * 3);
  const regions: ScanRegion[] = [];
  let at = start;
  while (at < end) {
    const r = native.pagemapScan(
      fd,
      at,
      end,
      0n,
      BigInt(opts.inverted ?? 0),
      BigInt(opts.mask ?? 0),
      BigInt(opts.anyof ?? 0),
      BigInt(opts.returnMask ?? PAGE_IS_ALL),
      0n,
      vec,
    );
    if (!r.ok) return err(r.errno);
    for (let i = 0; i < r.value.count; i++) {
      const region = {
        start: vec[3 * i]!,
        end: vec[3 * i + 1]!,
        categories: Number(vec[3 * i + 2]!),
      };
      // The kernel coalesces within one call; join across calls too.
      const last = regions[regions.length - 1];
      if (last && last.end === region.start && last.categories === region.categories) {
        last.end = region.end;
      } else {
        regions.push(region);
      }
    }
    if (r.value.walkEnd <= at) break;
    at = r.value.walkEnd;
  }
  return ok(regions);
}

/** Scans [start, end) of pid. */
export function scanPagemap(
  pid: number,
  start: bigint,
  end: bigint,
  opts: ScanOptions = {},
): Result<ScanRegion[]> {
  return withPagemapFd(pid, (fd) => scanFd(fd, start, end, opts));
}

/** Expands regions to one category mask per page of [start, end) (0 where none reported). */
export function categoriesPerPage(regions: readonly ScanRegion[], start: bigint, end: bigint) {
  const n = Number((end - start) / 4096n);
  const out = new Uint16Array(n);
  for (const r of regions) {
    const a = Number(((r.start < start ? start : r.start) - start) / 4096n);
    const b = Number(((r.end > end ? end : r.end) - start) / 4096n);
    out.fill(r.categories, a, b);
  }
  return out;
}
