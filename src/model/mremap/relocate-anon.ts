/**
 * MREMAP_RELOCATE_ANON (Lorenzo Stoakes' RFC v2, not merged): a moved anonymous VMA that
 * cannot merge gets pgoff = new_addr >> PAGE_SHIFT and a fresh anon_vma, so it can merge
 * with its new neighbours afterwards. Only the 'relocate-anon-rfc' profile enables it.
 */
import { Errno } from '../../space/errno.js';
import type { Err } from '../../space/result.js';
import { vmaIsForkChild, vmaMergeExistingRange, vmgVmaState } from '../merge.js';
import { PAGE, type Mm } from '../mm.js';
import { AnonVma, VM, VM_SPECIAL, type Vma } from '../vma.js';
import type { VmaRemapStruct } from './vrm.js';

/** mm/mremap.c:should_relocate_anon (RFC v2): 'relocate', 'normal', or EFAULT under MUST. */
export function shouldRelocateAnon(
  mm: Mm,
  vrm: VmaRemapStruct,
  vma: Vma,
): 'relocate' | 'normal' | Err {
  const tr = mm.tracer;
  if (!vrm.relocate) return 'normal';
  const refuse = (why: string): 'normal' | Err => {
    if (vrm.mustRelocate) return tr.fail(`should_relocate_anon: ${why}`, Errno.EFAULT);
    tr.note(`should_relocate_anon: ${why}`, 'fallback');
    return 'normal';
  };
  if ((vma.flags & (VM_SPECIAL | VM.HUGETLB)) !== 0 || vma.special !== null)
    return refuse('VM_SPECIAL or hugetlb');
  if (!vma.isAnonymous) return refuse('not vma_is_anonymous');
  if (vmaIsForkChild(vma) || (vma.anonVma !== null && vma.anonVma.numChildren > 1)) {
    return refuse('vma_maybe_has_shared_anon_folios');
  }
  if (vma.anonVma === null) {
    tr.note('should_relocate_anon: unfaulted', 'normal');
    return 'normal';
  }
  tr.note('should_relocate_anon', 'relocate');
  return 'relocate';
}

/** RFC v2 copy_vma: the new VMA gets pgoff = new_addr/PS and a fresh, unforked anon_vma. */
export function relocateNewVma(newVma: Vma): void {
  newVma.pgoff = newVma.start / PAGE;
  newVma.anonVma = new AnonVma(null);
  newVma.chainLen = 1;
}

/** RFC v2: after the page tables moved, the relocated VMA tries to merge where it landed. */
export function relocateAnonMerge(mm: Mm, newVma: Vma): void {
  const vmg = vmgVmaState(newVma, newVma.start, newVma.end);
  const m = vmaMergeExistingRange(mm, vmg, 'relocate_anon');
  mm.tracer.note(
    'relocate_anon: vma_merge_existing_range',
    m === null ? 'no-merge' : `merged-${m.kind}`,
  );
}
