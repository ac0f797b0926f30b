/**
 * mm/mremap.c:mremap_at — resizing in place: shrink_vma, and EXPAND by vma_expandable +
 * expand_vma_in_place (vma_merge_extend), else a move when MAYMOVE allows it.
 */
import { MREMAP } from '../../space/constants.js';
import { Errno } from '../../space/errno.js';
import { ok, type Result } from '../../space/result.js';
import { populate } from '../fault.js';
import { vmaAttrs, vmaMergeNewRange, vmgState } from '../merge.js';
import { PAGE, type Mm } from '../mm.js';
import { VM, type Vma } from '../vma.js';
import { munmapChecked } from '../vma-ops.js';
import { moveVma, placeMove } from './move.js';
import type { VmaRemapStruct } from './vrm.js';

/** shrink_vma (and the ≤6.14 body): do_vmi_munmap of [addr + new_len, addr + old_len). */
export function shrinkVma(
  mm: Mm,
  addr: bigint,
  newLen: bigint,
  delta: bigint,
  step: string,
): Result<0> {
  return munmapChecked(mm, addr + newLen, delta, step);
}

/** mremap_at EXPAND: in place when vma_expandable, else move with MAYMOVE, else ENOMEM. */
export function expandOrMove(mm: Mm, vrm: VmaRemapStruct): Result<bigint> {
  const tr = mm.tracer;
  const vma = vrm.vma!;
  if (vma.end - vrm.addr === vrm.oldLen && vmaExpandable(mm, vma, vrm.delta)) {
    tr.note('vrm_can_expand_in_place', 'yes');
    return expandVma(mm, vrm);
  }
  tr.note('vrm_can_expand_in_place', 'no');
  if ((vrm.flags & MREMAP.MAYMOVE) === 0n)
    return tr.fail('mremap_at: cannot expand in place and no MAYMOVE', Errno.ENOMEM);
  const r = placeMove(mm, vrm, 0n);
  if (!r.ok) return r;
  vrm.newAddr = r.value;
  const m = moveVma(mm, vrm);
  return m.ok ? ok(BigInt(m.value)) : m;
}

/** mm/mremap.c:vma_expandable — nothing mapped in [vm_end, vm_end+delta), within TASK_SIZE. */
function vmaExpandable(mm: Mm, vma: Vma, delta: number): boolean {
  const end = vma.end + delta;
  if (BigInt(end) > mm.o.taskSize) return false;
  return mm.tree.intersection(vma.end, end) === null;
}

/** mm/mremap.c:expand_vma_in_place → vma_merge_extend (a new-range merge with prev = vma). */
function expandVma(mm: Mm, vrm: VmaRemapStruct): Result<bigint> {
  const tr = mm.tracer;
  const vma = vrm.vma!;
  const vmg = vmgState({
    prev: vma,
    next: vma.next,
    start: vma.end,
    end: vma.end + vrm.delta,
    pgoff: vma.pgoff + vma.pages,
    ...vmaAttrs(vma),
  });
  const oldEnd = vma.end;
  const m = vmaMergeNewRange(mm, vmg, 'vma_merge_extend');
  if (m === null) return tr.fail('vma_merge_extend', Errno.ENOMEM);
  tr.note('vma_merge_extend', `merged-${m.kind}`);
  if ((vma.flags & VM.LOCKED) !== 0) {
    mm.lockedVm += vrm.delta / PAGE;
    populate(mm, oldEnd, oldEnd + vrm.delta);
  }
  return ok(BigInt(vrm.addr));
}
