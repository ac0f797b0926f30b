/**
 * Page-table bookkeeping (mm/memory.c zap_page_range_single, free_pgtables; huge_memory.c
 * split_huge_pmd; pt_reclaim.c): PTEs, PTE tables, PMD tables and THP PMD leaves of one Mm.
 */
import { PMD, PUD } from './page-tables.js';
import { PAGE, floorPmd, floorPud, type Mm, type Pte } from './mm.js';

/** drops one PTE (frame reference included). */
export function dropPte(mm: Mm, pn: number, pte: Pte): void {
  if (pte.fpage === null && !pte.zero) mm.world.put(pte.frame);
  mm.ptes.delete(pn);
}

/** zap_page_range: clears PTEs in [start, end); partial THP PMDs are split. */
export function zapRange(mm: Mm, start: number, end: number): void {
  splitHugeAt(mm, start);
  splitHugeAt(mm, end);
  for (let s = floorPmd(start); s < end; s += PMD)
    if (s >= start && s + PMD <= end) mm.pt.hugePmds.delete(s);
  mm.forEachPte(start, end, (pn, pte) => dropPte(mm, pn, pte));
}

/** split_huge_pmd for a THP PMD that addr cuts. */
export function splitHugeAt(mm: Mm, addr: number): void {
  const slot = floorPmd(addr);
  if (slot !== addr && mm.pt.hugePmds.delete(slot)) mm.pt.pteTables.add(slot);
}

/** free_pgtables: frees tables of slots in [start, end) no VMA intersects any more. */
export function freePgtables(mm: Mm, start: number, end: number): void {
  for (let s = floorPmd(start); s < end; s += PMD) {
    if (mm.tree.intersection(s, s + PMD) === null) {
      mm.pt.pteTables.delete(s);
      mm.pt.hugePmds.delete(s);
    }
  }
  for (let s = floorPud(start); s < end; s += PUD) {
    if (mm.tree.intersection(s, s + PUD) === null) mm.pt.pmdTables.delete(s);
  }
}

export function ensureTables(mm: Mm, addr: number): void {
  mm.pt.pmdTables.add(floorPud(addr));
  const slot = floorPmd(addr);
  if (!mm.pt.hugePmds.has(slot)) mm.pt.pteTables.add(slot);
}

/**
 * mm/pt_reclaim.c (CONFIG_PT_RECLAIM, 6.14): madvise_dontneed_single_vma zaps with
 * details->reclaim_pt, and zap_pte_range frees a PTE table it emptied when its part of the
 * zap spans the whole PMD (reclaim_pt_is_enabled: end - start >= PMD_SIZE).
 */
export function reclaimPteTables(mm: Mm, start: number, end: number): void {
  for (let slot = floorPmd(start); slot < end; slot += PMD)
    if (slot >= start && slot + PMD <= end) mm.pt.pteTables.delete(slot);
}

/**
 * unmap_vmas zaps with ZAP_FLAG_DROP_MARKER: unmapping removes guard markers,
 * which MADV_DONTNEED/FREE/REMOVE/PAGEOUT leave in place.
 */
export function dropGuards(mm: Mm, start: number, end: number): void {
  if (mm.guards.size === 0) return;
  for (let p = start / PAGE; p < end / PAGE; p++) mm.guards.delete(p);
}

/** set_pte_range over a whole large folio: n PTEs from start, frames frame0…, marked THP. */
export function mapLargeFolio(
  mm: Mm,
  start: number,
  n: number,
  frame0: number,
  zero: boolean,
): void {
  for (let i = 0; i < n; i++)
    mm.ptes.set(start / PAGE + i, { frame: frame0 + i, tag: 0n, fpage: null, zero, thp: true });
}
