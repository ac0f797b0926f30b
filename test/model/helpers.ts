import { ModelSpace, type ModelSpaceOptions } from '../../src/model/address-space.js';
import { MAP, PROT } from '../../src/space/constants.js';
import type { Result } from '../../src/space/result.js';

export const P = 0x1000n;
export const ANON = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;
export const SHARED_ANON = MAP.SHARED | MAP.ANONYMOUS | MAP.FIXED;
export const RW = PROT.READ | PROT.WRITE;

export function space(profile = 'linux-6.18', opts: ModelSpaceOptions = {}): ModelSpace {
  return new ModelSpace({ profile, ...opts });
}

export function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}`);
  return r.value;
}

export function code(r: Result<unknown>): string {
  return r.ok ? 'ok' : r.code;
}

/** Maps `pages` pages of private anonymous memory at addr (MAP_FIXED). */
export function anon(
  s: ModelSpace,
  addr: bigint,
  pages: number,
  prot: number = RW,
  extra = 0,
): bigint {
  return value(s.map({ addr, length: BigInt(pages) * P, prot, flags: ANON | extra }));
}

/** Writes a tag (the page address) into every page of [addr, addr + pages). */
export function fill(s: ModelSpace, addr: bigint, pages: number): void {
  for (let i = 0n; i < BigInt(pages); i++) value(s.touch(addr + i * P, addr + i * P));
}

/** 'start-end' hex strings of the VMAs in [lo, hi). */
export function layout(s: ModelSpace, lo = 0n, hi = 0x7fffffffffffn): string[] {
  return s
    .snapshot(lo, hi, { pages: false })
    .vmas.map((v) => `${v.start.toString(16)}-${v.end.toString(16)}`);
}

export function flagsAt(s: ModelSpace, addr: bigint): readonly string[] {
  return s.snapshot(addr, addr + 1n, { pages: false, vmFlags: true }).vmas[0]?.vmFlags ?? [];
}
