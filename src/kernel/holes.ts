/**
 * Arena placeholders (native/holes.cc): every unused page of an arena is covered by one, so
 * no other thread of this process (V8's heap, libuv) can mmap into a hole the tool opened.
 * They stand for holes: snapshots leave them out, and KernelSpace takes them away just
 * before a call that must see a real hole there.
 */
import { native } from '../native.js';
import { err, ok, type Result } from '../space/result.js';

/** How /proc/PID/maps names a placeholder VMA. */
export const HOLE_VMA_NAME = '/memfd:mremap-lab-hole (deleted)';

export function isHoleName(name: string): boolean {
  return name === HOLE_VMA_NAME || name === '/memfd:mremap-lab-hole';
}

/** replace=false never touches a mapping (EEXIST); replace=true only over what we own. */
export function placeHole(addr: bigint, length: bigint, replace: boolean): Result<number> {
  const r = native.placeHole(addr, length, replace);
  return r.ok ? ok(r.value) : err(r.errno);
}
