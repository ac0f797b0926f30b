/** mm/khugepaged.c:madvise_collapse (MADV_COLLAPSE, 6.1). */
import { Mm, PAGE, floorPmd, floorPud } from './mm.js';
import { PMD } from './page-tables.js';
import { dropPte } from './pgtable.js';
import { anonVmaPrepare } from './rmap.js';
import { VM, Vma } from './vma.js';
import { Errno } from '../space/errno.js';
import type { Err } from '../space/result.js';

/**
 * mm/khugepaged.c:madvise_collapse for one anonymous VMA (6.1): thp_vma_allowable_order
 * (forced: the sysfs mode does not matter; VM_NOHUGEPAGE, no anon_vma or no aligned PMD in
 * the VMA refuse) else EINVAL; then each whole PMD of the range is collapsed into a THP
 * (hpage_collapse_scan_pmd + collapse_huge_page: no limit on empty PTEs, the data is
 * copied, empty and zero pages become zero-filled; read-only PTEs too). A PMD without a
 * PTE table is not collapsed (EINVAL); an already huge PMD counts as done.
 */
export function madviseCollapse(mm: Mm, v: Vma, start: number, end: number): Err | null {
  const tr = mm.tracer;
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
    if (mm.pt.hugePmds.has(slot)) continue;
    // find_pmd_or_thp_or_none: no PTE table under the PMD (SCAN_PMD_NULL/NONE) is not
    // collapsed; madvise_collapse goes on and fails with EINVAL at the end.
    if (!mm.pt.pteTables.has(slot)) {
      last = Errno.EINVAL;
      tr.note('hpage_collapse_scan_pmd: no PTE table', 'EINVAL');
      continue;
    }
    let none = 512;
    let writable = false;
    mm.forEachPte(slot, slot + PMD, (_pn, pte) => {
      if (pte.zero) return;
      none--;
      // pte_write(): a private page mm mm alone maps, in a writable VMA.
      if ((v.flags & VM.WRITE) !== 0 && pte.fpage === null && mm.world.refs.get(pte.frame) === 1)
        writable = true;
    });
    if (none > 0 && v.uffd !== null) {
      const errno = mm.profile.collapseUffdEinval ? Errno.EINVAL : Errno.EBUSY;
      return tr.fail('madvise_collapse: SCAN_EXCEED_NONE_PTE (uffd armed)', errno);
    }
    if (!writable && mm.profile.collapseNeedsWritablePte) {
      last = Errno.EINVAL;
      tr.note('hpage_collapse_scan_pmd: SCAN_PAGE_RO', 'EINVAL');
      continue;
    }
    const f = mm.world.newFrames(512);
    for (let i = 0; i < 512; i++) {
      const pn = slot / PAGE + i;
      const old = mm.ptes.get(pn);
      const tag = old === undefined || old.zero ? 0n : old.tag;
      if (old !== undefined) dropPte(mm, pn, old);
      mm.ptes.set(pn, { frame: f + i, tag, fpage: null, zero: false, thp: true });
    }
    anonVmaPrepare(mm, v);
    mm.pt.pmdTables.add(floorPud(slot));
    mm.pt.pteTables.delete(slot);
    mm.pt.hugePmds.add(slot);
  }
  return last === null ? null : tr.fail('madvise_collapse: madvise_collapse_errno', last);
}
