/**
 * mm/mremap.c:remap_move (6.17+): a FIXED same-size move of a range spanning several VMAs,
 * each moved by its own check_prep_vma + mremap_to, gaps preserved.
 */
import { Errno } from '../../space/errno.js';
import { ok, type Result } from '../../space/result.js';
import type { Vma } from '../vma.js';
import { checkPrepVma, type MremapCall } from './checks.js';
import { mremapTo } from './move.js';
import type { VmaRemapStruct } from './vrm.js';

/** mm/mremap.c:vma_multi_allowed — uffd-armed VMAs cannot be part of a multi-VMA move. */
function vmaMultiAllowed(vma: Vma): boolean {
  return vma.uffd === null;
}

/** mm/mremap.c:mremap_to (6.17+): the destination is unmapped only after check_prep_vma. */
export function mremapTo617(c: MremapCall): Result<bigint> {
  return mremapTo(c.mm, c.vrm, 'mremap_to: shrink_vma', (vma) =>
    vma === null ? c.mm.tracer.fail('mremap_to: vma_lookup after unmap', Errno.EFAULT) : null,
  );
}

/** mm/mremap.c:remap_move (6.17+): FIXED same-size moves across VMAs, gaps preserved. */
export function remapMove(c: MremapCall): Result<bigint> {
  const { mm, vrm } = c;
  const tr = mm.tracer;
  const start = vrm.addr;
  const end = vrm.addr + vrm.oldLen;
  const outOfRange = BigInt(start) > mm.o.taskSize;
  let vma = outOfRange ? null : mm.tree.findVma(start);
  let e;
  if ((e = tr.check('remap_move: no VMA in range', vma === null || vma.start >= end, Errno.EFAULT)))
    return e;
  if ((e = tr.check('remap_move: range starts in a hole', vma!.start > start, Errno.EFAULT)))
    return e;
  let target = vrm.newAddr;
  let lastEnd = start;
  let seen = false;
  let cur = start;
  while (vma !== null && vma.start < end && cur < end) {
    const s = Math.max(vma.start, cur);
    const en = Math.min(vma.end, end);
    if (seen) target += s - lastEnd;
    if (!vmaMultiAllowed(vma) && (seen || end > vma.end)) {
      return tr.fail('remap_move: !vma_multi_allowed', Errno.EFAULT);
    }
    const piece: VmaRemapStruct = {
      ...vrm,
      addr: s,
      oldLen: en - s,
      newLen: en - s,
      newAddr: target,
      vma: null,
      delta: 0,
      type: 'NO_RESIZE',
    };
    tr.note(
      'remap_move: piece',
      'ok',
      `[0x${s.toString(16)}, 0x${en.toString(16)}) → 0x${target.toString(16)}`,
    );
    const pc: MremapCall = { ...c, vrm: piece };
    const r = checkPrepVma(pc);
    if (typeof r === 'object') return r;
    const m = mremapTo617(pc);
    if (!m.ok) return m;
    target += en - s;
    lastEnd = en;
    seen = true;
    cur = en;
    vma = mm.tree.findVma(en);
  }
  return ok(BigInt(vrm.newAddr));
}
