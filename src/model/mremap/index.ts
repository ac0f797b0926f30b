/**
 * mremap(): the three validation orders the model knows (checks.ts CLASSIC, VRM, MULTI) and
 * where each sends the call once validated — no-op, shrink, expand in place or move
 * (resize.ts), a move to a new address (move.ts), a multi-VMA move (multi.ts). One
 * VmaRemapStruct (vrm.ts) carries the operation.
 */
import type { RemapArgs } from '../../space/address-space.js';
import { MREMAP } from '../../space/constants.js';
import { Errno } from '../../space/errno.js';
import { ok, type Result } from '../../space/result.js';
import type { Mm } from '../mm.js';
import {
  CLASSIC,
  MULTI,
  VRM,
  checkPrepVma,
  newCall,
  rangeNotSealed,
  runChecks,
  vmaToResize,
  type MremapCall,
  type ResizeCheckFn,
  type ValidationOrder,
} from './checks.js';
import { mremapTo } from './move.js';
import { mremapTo617, remapMove } from './multi.js';
import { expandOrMove, shrinkVma } from './resize.js';
import { impliesNewAddr } from './vrm.js';

export type { VmaRemapStruct } from './vrm.js';

export function doMremap(mm: Mm, a: RemapArgs): Result<bigint> {
  switch (mm.profile.validation) {
    case 'classic':
      return mremapClassic(mm, a);
    case 'vrm':
      return mremapVrm(mm, a);
    case 'vrm-multi':
      return mremapMulti(mm, a);
  }
}

/** mremap_to for ≤6.16: its own argument checks, then vma_to_resize / remap_is_valid. */
function mremapToChecked(
  c: MremapCall,
  checks: ValidationOrder,
  fn: ResizeCheckFn,
): Result<bigint> {
  const e = runChecks(checks.mremapTo, c);
  if (e !== null) return e;
  return mremapTo(c.mm, c.vrm, 'mremap_to: do_munmap(tail)', (vma) => {
    const miss = c.mm.tracer.check(`${fn}: vma_lookup(addr)`, vma === null, Errno.EFAULT);
    return miss ?? vmaToResize(c, fn);
  });
}

/** ≤6.14: SYSCALL_DEFINE5(mremap). */
function mremapClassic(mm: Mm, a: RemapArgs): Result<bigint> {
  const c = newCall(mm, a);
  const e = runChecks(CLASSIC.params, c) ?? runChecks(CLASSIC.vma, c);
  if (e !== null) return e;
  if (impliesNewAddr(a.flags)) return mremapToChecked(c, CLASSIC, 'vma_to_resize');
  const sealed = rangeNotSealed('mremap: can_modify_mm')(c);
  if (sealed !== null) return sealed;
  if (c.oldLenB >= c.newLenB) {
    if (c.oldLenB > c.newLenB) {
      const r = shrinkVma(
        mm,
        a.addr,
        c.newLenB,
        c.oldLenB - c.newLenB,
        'mremap: do_vmi_munmap(tail)',
      );
      if (!r.ok) return r;
      mm.tracer.note('mremap: shrink in place', 'ok');
    } else mm.tracer.note('mremap: old_len == new_len', 'ok');
    return ok(a.addr);
  }
  return vmaToResize(c, 'vma_to_resize') ?? expandOrMove(mm, c.vrm);
}

/** 6.15–6.16: do_mremap after the first vma_remap_struct refactor. */
function mremapVrm(mm: Mm, a: RemapArgs): Result<bigint> {
  const c = newCall(mm, a);
  const e = runChecks(VRM.params, c) ?? runChecks(VRM.vma, c);
  if (e !== null) return e;
  if (impliesNewAddr(a.flags)) return mremapToChecked(c, VRM, 'remap_is_valid');
  if (c.vrm.type === 'NO_RESIZE') {
    mm.tracer.note('mremap_at: NO_RESIZE', 'ok');
    return ok(a.addr);
  }
  if (c.vrm.type === 'SHRINK') {
    const r = shrinkVma(mm, a.addr, c.newLenB, c.oldLenB - c.newLenB, 'shrink_vma: do_vmi_munmap');
    return r.ok ? ok(a.addr) : r;
  }
  return vmaToResize(c, 'remap_is_valid') ?? expandOrMove(mm, c.vrm);
}

/** 6.17+: check_mremap_params, then remap_move or check_prep_vma + mremap_to / mremap_at. */
function mremapMulti(mm: Mm, a: RemapArgs): Result<bigint> {
  const c = newCall(mm, a);
  const e = runChecks(MULTI.params, c);
  if (e !== null) return e;
  const vrm = c.vrm;
  if ((a.flags & MREMAP.FIXED) !== 0n && c.oldLenB === c.newLenB) return remapMove(c);
  const r = checkPrepVma(c);
  if (r === 'done') {
    if (vrm.type === 'SHRINK') {
      // shrink_vma works on vrm->new_len/old_len, which align_hugetlb may have rounded up.
      const u = shrinkVma(
        mm,
        a.addr,
        BigInt(vrm.newLen),
        BigInt(vrm.delta),
        'shrink_vma: do_vmi_munmap',
      );
      if (!u.ok) return u;
      mm.tracer.note('mremap_at: shrink in place', 'ok');
    } else mm.tracer.note('mremap_at: NO_RESIZE', 'ok');
    return ok(a.addr);
  }
  if (r !== 'ok') return r;
  if (impliesNewAddr(a.flags)) return mremapTo617(c);
  if (vrm.type === 'NO_RESIZE') return ok(a.addr);
  return expandOrMove(mm, vrm);
}
