/** mm/hugetlb.c: hugetlb faults (whole huge pages from the reservation) and reservations. */
import { Mm, PAGE, floorPud } from './mm.js';
import { PMD } from './page-tables.js';
import { VM, Vma } from './vma.js';
import { Errno } from '../space/errno.js';
import { ok, type Err, type Result } from '../space/result.js';
import { mapLargeFolio } from './pgtable.js';

/**
 * mm/hugetlb.c:hugetlb_fault — a read or write fault maps a whole zeroed huge page (there
 * is no hugetlb zero page), taken from the reservation; a NORESERVE mapping with an empty
 * pool gets SIGBUS.
 */
export function hugetlbFault(
  mm: Mm,
  vma: Vma,
  addr: number,
  write: boolean,
  tag: bigint | null,
): Result<0> {
  const size = vma.special?.splitAlign ?? PMD;
  const slot = addr - (addr % size);
  const pn = addr / PAGE;
  if (!mm.ptes.has(slot / PAGE)) {
    if ((vma.flags & VM.NORESERVE) !== 0) {
      if (mm.hugetlbFree < 1)
        return mm.tracer.fail('hugetlb_fault: no page (SIGBUS)', Errno.EFAULT);
      mm.hugetlbFree -= 1;
    }
    const n = size / PAGE;
    mapLargeFolio(mm, slot, n, mm.world.newFrames(n), false);
    mm.pt.pmdTables.add(floorPud(slot));
    if (size === PMD) mm.pt.hugePmds.add(slot);
  }
  if (write && tag !== null) mm.ptes.get(pn)!.tag = tag;
  return ok(0);
}

/**
 * mm/hugetlb.c:hugetlb_reserve_pages — the whole mapping is reserved at mmap time unless
 * MAP_NORESERVE; too few free huge pages is ENOMEM (1 GiB pages: never any here).
 */
export function hugetlbReservePages(
  mm: Mm,
  len: number,
  huge: number,
  vmFlags: number,
): Err | null {
  if ((vmFlags & VM.NORESERVE) !== 0) return null;
  const reserve = huge === PMD ? len / PMD : 0;
  if (huge !== PMD || reserve > mm.hugetlbFree)
    return mm.tracer.fail('hugetlb_reserve_pages', Errno.ENOMEM);
  mm.hugetlbFree -= reserve;
  return null;
}
