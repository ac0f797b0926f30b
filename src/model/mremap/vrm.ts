/**
 * struct vma_remap_struct (mm/mremap.c, 6.15+; the ≤6.14 syscall's locals before that): one
 * mremap() call as it goes through validation, resize and move.
 */
import type { RemapArgs } from '../../space/address-space.js';
import { MREMAP } from '../../space/constants.js';
import { U64, type Mm } from '../mm.js';
import type { Vma } from '../vma.js';

export type RemapType = 'NO_RESIZE' | 'SHRINK' | 'EXPAND';

/** struct vma_remap_struct. */
export interface VmaRemapStruct {
  addr: number;
  oldLen: number;
  newLen: number;
  newAddr: number;
  flags: bigint;
  vma: Vma | null;
  delta: number;
  type: RemapType;
  /** RELOCATE_ANON / MUST_RELOCATE_ANON requested (profile bits). */
  relocate: boolean;
  mustRelocate: boolean;
}

/** mm/mremap.c:vrm_implies_new_addr — FIXED or DONTUNMAP. */
export const impliesNewAddr = (flags: bigint): boolean =>
  (flags & (MREMAP.FIXED | MREMAP.DONTUNMAP)) !== 0n;

/** The bits check_mremap_params() lets through; any other bit of the 64 is EINVAL. */
export function allowedFlags(mm: Mm): bigint {
  const r = mm.profile.relocateAnon;
  return MREMAP.FIXED | MREMAP.MAYMOVE | MREMAP.DONTUNMAP | (r === null ? 0n : r.relocate | r.must);
}

/** Ranges overlap, in u64 arithmetic as the kernel computes it. */
export function overlaps(addr: bigint, oldLen: bigint, newAddr: bigint, newLen: bigint): boolean {
  return ((addr + oldLen) & U64) > newAddr && ((newAddr + newLen) & U64) > addr;
}

/** mm/mremap.c:vrm_set_delta / remap_type from the (aligned) lengths. */
export function setLengths(vrm: VmaRemapStruct, oldLen: number, newLen: number): void {
  vrm.oldLen = oldLen;
  vrm.newLen = newLen;
  vrm.delta = Math.abs(oldLen - newLen);
  vrm.type = oldLen === newLen ? 'NO_RESIZE' : oldLen > newLen ? 'SHRINK' : 'EXPAND';
}

export function newVrm(mm: Mm, a: RemapArgs, oldLen: bigint, newLen: bigint): VmaRemapStruct {
  const r = mm.profile.relocateAnon;
  const vrm: VmaRemapStruct = {
    addr: Number(a.addr),
    oldLen: 0,
    newLen: 0,
    newAddr: Number(a.newAddr & U64),
    flags: a.flags,
    vma: null,
    delta: 0,
    type: 'NO_RESIZE',
    relocate: r !== null && (a.flags & (r.relocate | r.must)) !== 0n,
    mustRelocate: r !== null && (a.flags & r.must) !== 0n,
  };
  setLengths(vrm, Number(oldLen), Number(newLen));
  return vrm;
}
