/** Confinement: address-changing calls outside the arena are refused before any syscall. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { ArenaError } from '../../src/kernel/errors.js';
import { KernelSpace } from '../../src/kernel/kernel-space.js';
import { sys } from '../../src/kernel/syscalls.js';
import { MAP, MREMAP, PAGE_SIZE, PMD_SIZE, PROT } from '../../src/space/constants.js';

const RW = PROT.READ | PROT.WRITE;
const ANON_FIXED = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;

let arena: Arena;
let space: KernelSpace;
beforeEach(() => {
  arena = Arena.reserve({ size: 64n * PAGE_SIZE, interior: 'empty' });
  space = new KernelSpace(arena);
});
afterEach(() => {
  space.dispose();
  arena.release();
});

/** A page of this process's memory outside every arena: the test must not lose it. */
function outsidePage(): { addr: bigint; release: () => void } {
  const r = sys.mmap(0n, PAGE_SIZE, RW, MAP.PRIVATE | MAP.ANONYMOUS);
  if (!r.ok) throw new Error('mmap failed');
  sys.writeTag(0, r.value, 0x5afen);
  return { addr: r.value, release: () => void sys.munmap(r.value, PAGE_SIZE) };
}

describe('Arena.reserve', () => {
  it('aligns the usable start and keeps PROT_NONE guards on both sides', () => {
    const big = Arena.reserve({ size: 4n * PMD_SIZE, align: 1n << 30n });
    try {
      expect(big.start % (1n << 30n)).toBe(0n);
      expect(big.size).toBe(4n * PMD_SIZE);
      // The guard below is mapped, so a FIXED_NOREPLACE map there fails with EEXIST.
      expect(
        sys.mmap(
          big.start - PAGE_SIZE,
          PAGE_SIZE,
          RW,
          MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED_NOREPLACE,
        ),
      ).toMatchObject({
        code: 'EEXIST',
      });
    } finally {
      big.release();
    }
    // Released whole: the guard is gone.
    const again = sys.mmap(
      big.start - PAGE_SIZE,
      PAGE_SIZE,
      RW,
      MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED_NOREPLACE,
    );
    expect(again).toEqual({ ok: true, value: big.start - PAGE_SIZE });
    sys.munmap(big.start - PAGE_SIZE, PAGE_SIZE);
  });

  it('rejects bad sizes and alignments naming the parameter', () => {
    expect(() => Arena.reserve({ size: 4095n })).toThrow(
      /size must be a positive multiple of 4096/,
    );
    expect(() => Arena.reserve({ size: -4096n })).toThrow(RangeError);
    expect(() => Arena.reserve({ size: 4096 as unknown as bigint })).toThrow(
      /size must be a bigint/,
    );
    expect(() => Arena.reserve({ size: 4096n, align: 3000n })).toThrow(
      /align: an arena alignment must be a power of two from 4K to 1G/,
    );
  });
});

describe('confinement (KernelSpace)', () => {
  it('refuses an out-of-arena mremap source; the memory there is untouched', () => {
    const o = outsidePage();
    try {
      expect(() =>
        space.remap({
          addr: o.addr,
          oldLen: PAGE_SIZE,
          newLen: PAGE_SIZE,
          flags: MREMAP.MAYMOVE | MREMAP.FIXED,
          newAddr: arena.page(0),
        }),
      ).toThrow(ArenaError);
      expect(sys.readTag(0, o.addr)).toEqual({ ok: true, value: 0x5afen });
    } finally {
      o.release();
    }
  });

  it('refuses an out-of-arena mremap destination and names address and bounds', () => {
    space.map({ addr: arena.page(0), length: PAGE_SIZE, prot: RW, flags: ANON_FIXED });
    const o = outsidePage();
    try {
      let caught: unknown;
      try {
        space.remap({
          addr: arena.page(0),
          oldLen: PAGE_SIZE,
          newLen: PAGE_SIZE,
          flags: MREMAP.MAYMOVE | MREMAP.FIXED,
          newAddr: o.addr,
        });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ArenaError);
      expect((caught as ArenaError).message).toContain(`0x${o.addr.toString(16)}`);
      expect((caught as ArenaError).message).toContain(`0x${arena.start.toString(16)}`);
      expect(sys.readTag(0, o.addr)).toEqual({ ok: true, value: 0x5afen });
      // The source is still in place: no syscall was made.
      expect(space.read(arena.page(0))).toEqual({ ok: true, value: 0n });
    } finally {
      o.release();
    }
  });

  it('lets a DONTUNMAP without FIXED take a hint outside the arena; what is there is kept', () => {
    space.map({ addr: arena.page(0), length: PAGE_SIZE, prot: RW, flags: ANON_FIXED });
    space.touch(arena.page(0), 0x77n);
    const o = outsidePage();
    try {
      // The hint is taken, so get_unmapped_area puts the move elsewhere: never over it.
      const r = space.remap({
        addr: arena.page(0),
        oldLen: PAGE_SIZE,
        newLen: PAGE_SIZE,
        flags: MREMAP.MAYMOVE | MREMAP.DONTUNMAP,
        newAddr: o.addr,
      });
      expect(r.ok).toBe(true);
      const to = (r as { value: bigint }).value;
      expect(to).not.toBe(o.addr);
      expect(sys.readTag(0, o.addr)).toEqual({ ok: true, value: 0x5afen });
      expect(space.read(to)).toEqual({ ok: true, value: 0x77n });
      // Adopted like any placement of the kernel's: usable, and released with the arena.
      expect(arena.contains(to, PAGE_SIZE)).toBe(true);
      expect(space.unmap(to, PAGE_SIZE)).toEqual({ ok: true, value: 0 });
    } finally {
      o.release();
    }
  });

  it('lets an mmap hint or NOREPLACE name memory outside the arena; it is never replaced', () => {
    const o = outsidePage();
    try {
      const hinted = space.map({
        addr: o.addr,
        length: PAGE_SIZE,
        prot: RW,
        flags: MAP.PRIVATE | MAP.ANONYMOUS,
      });
      expect(hinted.ok).toBe(true);
      expect((hinted as { value: bigint }).value).not.toBe(o.addr);
      const noreplace = space.map({
        addr: o.addr,
        length: PAGE_SIZE,
        prot: RW,
        flags: MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED_NOREPLACE,
      });
      expect(noreplace).toMatchObject({ ok: false, code: 'EEXIST' });
      expect(sys.readTag(0, o.addr)).toEqual({ ok: true, value: 0x5afen });
      expect(() =>
        space.map({ addr: o.addr, length: PAGE_SIZE, prot: RW, flags: ANON_FIXED }),
      ).toThrow(ArenaError);
    } finally {
      o.release();
    }
  });

  it('refuses a range that crosses the arena edge', () => {
    expect(() =>
      space.map({ addr: arena.page(63), length: 2n * PAGE_SIZE, prot: RW, flags: ANON_FIXED }),
    ).toThrow(ArenaError);
    expect(() => space.unmap(arena.start - PAGE_SIZE, 2n * PAGE_SIZE)).toThrow(ArenaError);
    expect(() => space.protect(arena.page(60), 8n * PAGE_SIZE, PROT.READ)).toThrow(ArenaError);
  });

  it('refuses an address inside the Node heap and the process survives', () => {
    const buf = new BigUint64Array(512);
    buf[0] = 77n;
    // Find the heap page holding buf through /proc/self/maps is not needed: any V8 heap
    // address is outside the arena; take one from a real mapping of this process.
    const heap = outsidePage();
    try {
      expect(() => space.unmap(heap.addr, PAGE_SIZE)).toThrow(ArenaError);
      expect(() => space.touch(heap.addr, 1n)).toThrow(ArenaError);
      expect(() => space.seal(heap.addr, PAGE_SIZE)).toThrow(ArenaError);
      expect(() => space.advise(heap.addr, PAGE_SIZE, 4)).toThrow(ArenaError);
      expect(buf[0]).toBe(77n);
      expect(sys.readTag(0, heap.addr)).toEqual({ ok: true, value: 0x5afen });
    } finally {
      heap.release();
    }
  });

  it('lets pure parameter errors through (they change nothing) and returns their errno', () => {
    const r = space.remap({
      addr: arena.page(0),
      oldLen: PAGE_SIZE,
      newLen: PAGE_SIZE,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: 0x7ffffffff000n,
    });
    expect(r).toMatchObject({ ok: false, code: 'EINVAL' });
  });

  it('reading an unmapped arena page is an error result, not a crash', () => {
    expect(space.read(arena.page(5))).toMatchObject({ ok: false, code: 'EFAULT' });
    expect(space.touch(arena.page(5), 1n)).toMatchObject({ ok: false, code: 'EFAULT' });
  });

  it('rejects wrong argument types with TypeError/RangeError naming the parameter', () => {
    expect(() => space.unmap(4096 as unknown as bigint, PAGE_SIZE)).toThrow(
      /addr must be a bigint/,
    );
    expect(() => space.unmap(arena.page(0), -1n)).toThrow(/length must be between 0 and 2\^64-1/);
    expect(() => space.protect(arena.page(0), PAGE_SIZE, -1)).toThrow(/prot must not be negative/);
  });

  it('adopts a kernel-chosen destination of a MAYMOVE grow, so it can be used and released', () => {
    const a = arena.page(0);
    space.map({ addr: a, length: PAGE_SIZE, prot: RW, flags: ANON_FIXED });
    space.map({ addr: a + PAGE_SIZE, length: PAGE_SIZE, prot: PROT.READ, flags: ANON_FIXED });
    space.touch(a, 0x77n);
    const r = space.remap({
      addr: a,
      oldLen: PAGE_SIZE,
      newLen: 2n * PAGE_SIZE,
      flags: MREMAP.MAYMOVE,
      newAddr: 0n,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value === a).toBe(false);
    expect(arena.contains(r.value, 2n * PAGE_SIZE)).toBe(true);
    expect(space.read(r.value)).toEqual({ ok: true, value: 0x77n });
  });
});
