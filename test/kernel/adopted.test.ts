/**
 * Adopted ranges (memory a MAYMOVE move placed outside the arena) are the tool's exactly
 * while its mapping is there. Once the tool unmapped or moved it away, the address may be
 * reused by anything in the process (Node's Buffers): unmap, reset and release must leave
 * that alone. "Something else" is simulated with a raw mmap through the unsafe layer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { ArenaError } from '../../src/kernel/errors.js';
import { KernelSpace } from '../../src/kernel/kernel-space.js';
import { sys } from '../../src/kernel/syscalls.js';
import { MAP, MREMAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

const RW = PROT.READ | PROT.WRITE;
const ANON_FIXED = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;
const P = PAGE_SIZE;

let arena: Arena;
let space: KernelSpace;
beforeEach(() => {
  arena = Arena.reserve({ size: 64n * P, interior: 'empty' });
  space = new KernelSpace(arena);
});
afterEach(() => {
  space.dispose();
  arena.release();
});

/** Grows page 0 by a page with a read-only page in the way: the kernel moves it out. */
function adoptOne(): bigint {
  const a = arena.page(0);
  expect(space.map({ addr: a, length: P, prot: RW, flags: ANON_FIXED }).ok).toBe(true);
  expect(space.map({ addr: a + P, length: P, prot: PROT.READ, flags: ANON_FIXED }).ok).toBe(true);
  const r = space.remap({ addr: a, oldLen: P, newLen: 2n * P, flags: MREMAP.MAYMOVE, newAddr: 0n });
  if (!r.ok) throw new Error(`remap: ${r.code}`);
  expect(r.value < arena.start || r.value >= arena.end).toBe(true);
  expect(arena.contains(r.value, 2n * P)).toBe(true);
  return r.value;
}

/** Someone else's memory at addr (what Node allocating into the gap did), tagged. */
function foreignAt(addr: bigint): void {
  const m = sys.mmap(addr, 2n * P, RW, MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED_NOREPLACE);
  expect(m).toEqual({ ok: true, value: addr });
  expect(sys.writeTag(0, addr, 0xf0e1n).ok).toBe(true);
}

function stillThere(addr: bigint): void {
  expect(sys.readTag(0, addr)).toEqual({ ok: true, value: 0xf0e1n });
}

describe('adopted ranges', () => {
  it('are dropped when the tool unmaps them: later unmap/reset/release leave the reuser alone', () => {
    const out = adoptOne();
    expect(space.unmap(out, 2n * P)).toEqual({ ok: true, value: 0 });
    expect(arena.contains(out, 2n * P)).toBe(false);
    foreignAt(out);
    try {
      expect(() => space.unmap(out, 2n * P)).toThrow(ArenaError);
      expect(() => space.touch(out, 1n)).toThrow(ArenaError);
      stillThere(out);
      arena.reset('empty');
      stillThere(out);
      arena.release();
      stillThere(out);
    } finally {
      sys.munmap(out, 2n * P);
    }
  });

  it('are dropped when the tool moves them away', () => {
    const out = adoptOne();
    const r = space.remap({
      addr: out,
      oldLen: 2n * P,
      newLen: 2n * P,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: arena.page(8),
    });
    expect(r).toEqual({ ok: true, value: arena.page(8) });
    expect(arena.contains(out, 2n * P)).toBe(false);
    foreignAt(out);
    try {
      arena.reset('empty');
      arena.release();
      stillThere(out);
    } finally {
      sys.munmap(out, 2n * P);
    }
  });

  it('are re-verified against /proc/self/maps: a range unmapped behind the tool is not its', () => {
    const out = adoptOne();
    // Unmapped outside the tool (the raw layer): the adoption must not outlive the mapping.
    expect(sys.munmap(out, 2n * P).ok).toBe(true);
    expect(() => space.read(out)).toThrow(ArenaError);
    foreignAt(out);
    try {
      expect(() => space.unmap(out, 2n * P)).toThrow(ArenaError);
      arena.release();
      stillThere(out);
    } finally {
      sys.munmap(out, 2n * P);
    }
  });

  it("a fork child's adoptions stay the child's: the parent never unmaps that address", () => {
    const a = arena.page(0);
    space.map({ addr: a, length: P, prot: RW, flags: ANON_FIXED });
    space.map({ addr: a + P, length: P, prot: PROT.READ, flags: ANON_FIXED });
    const c = space.fork();
    if (!c.ok) throw new Error(`fork: ${c.code}`);
    const child = space.forkSpace(c.value);
    const r = child.remap({
      addr: a,
      oldLen: P,
      newLen: 2n * P,
      flags: MREMAP.MAYMOVE,
      newAddr: 0n,
    });
    if (!r.ok) throw new Error(`child remap: ${r.code}`);
    expect(r.value < arena.start || r.value >= arena.end).toBe(true);
    // Usable in the child, unknown to the parent's arena.
    expect(child.read(r.value)).toEqual({ ok: true, value: 0n });
    expect(arena.contains(r.value, 2n * P)).toBe(false);
    expect(() => space.unmap(r.value, 2n * P)).toThrow(ArenaError);
    // The parent may have its own memory there; release must not take it.
    foreignAt(r.value);
    try {
      space.release(c.value);
      arena.release();
      stillThere(r.value);
    } finally {
      sys.munmap(r.value, 2n * P);
    }
  });
});
