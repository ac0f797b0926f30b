/** A forked child shares the parent's anonymous pages until written, and is reaped. */
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { KernelSpace } from '../../src/kernel/kernel-space.js';
import { MAP, MREMAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

const RW = PROT.READ | PROT.WRITE;
const ANON_FIXED = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;

function pfn(pid: number, addr: bigint): bigint {
  const fd = fs.openSync(`/proc/${pid}/pagemap`, 'r');
  try {
    const b = Buffer.alloc(8);
    fs.readSync(fd, b, 0, 8, Number((addr / PAGE_SIZE) * 8n));
    return b.readBigUInt64LE(0) & ((1n << 55n) - 1n);
  } finally {
    fs.closeSync(fd);
  }
}

function isZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

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

describe('fork', () => {
  it('child sees the parent data and the same frame until a write breaks CoW', () => {
    const a = arena.page(0);
    space.map({ addr: a, length: 2n * PAGE_SIZE, prot: RW, flags: ANON_FIXED });
    space.touch(a, 0x1111n);
    const c = space.fork();
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    const child = space.forkSpace(c.value);
    expect(child.read(a)).toEqual({ ok: true, value: 0x1111n });
    const parentPfn = pfn(process.pid, a);
    if (parentPfn !== 0n) expect(pfn(c.value, a)).toBe(parentPfn);
    // A write in the child gives it its own copy; the parent keeps its data.
    expect(child.touch(a, 0x2222n)).toEqual({ ok: true, value: 0 });
    expect(child.read(a)).toEqual({ ok: true, value: 0x2222n });
    expect(space.read(a)).toEqual({ ok: true, value: 0x1111n });
    if (parentPfn !== 0n) expect(pfn(c.value, a) === parentPfn).toBe(false);
    expect(space.release(c.value)).toEqual({ ok: true, value: 0 });
    expect(fs.existsSync(`/proc/${c.value}`) && !isZombie(c.value)).toBe(false);
    expect(isZombie(c.value)).toBe(false);
  });

  it('runs mm syscalls inside the child without changing the parent', () => {
    const a = arena.page(0);
    space.map({ addr: a, length: PAGE_SIZE, prot: RW, flags: ANON_FIXED });
    space.touch(a, 5n);
    const c = space.fork();
    if (!c.ok) throw new Error('fork failed');
    const child = space.forkSpace(c.value);
    const r = child.remap({
      addr: a,
      oldLen: PAGE_SIZE,
      newLen: PAGE_SIZE,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: arena.page(10),
    });
    expect(r).toEqual({ ok: true, value: arena.page(10) });
    expect(child.read(arena.page(10))).toEqual({ ok: true, value: 5n });
    expect(child.read(a)).toMatchObject({ ok: false, code: 'EFAULT' });
    expect(space.read(a)).toEqual({ ok: true, value: 5n });
    expect(
      child.remap({
        addr: arena.page(30),
        oldLen: PAGE_SIZE,
        newLen: 2n * PAGE_SIZE,
        flags: 0n,
        newAddr: 0n,
      }),
    ).toMatchObject({
      code: 'EFAULT',
    });
    space.release(c.value);
  });

  it('an older child can be released while a newer one is alive (no inherited pipe keeps it)', () => {
    const a = space.fork();
    const b = space.fork();
    if (!a.ok || !b.ok) throw new Error('fork failed');
    // Before the fix the newer child held the older child's command pipe, so this hung.
    expect(space.release(a.value)).toEqual({ ok: true, value: 0 });
    expect(fs.existsSync(`/proc/${a.value}`)).toBe(false);
    expect(space.forkSpace(b.value).read(arena.page(0))).toMatchObject({
      ok: false,
      code: 'EFAULT',
    });
    expect(space.release(b.value)).toEqual({ ok: true, value: 0 });
  }, 10_000);

  it('releasing an unknown child is ECHILD', () => {
    expect(space.release(999999)).toMatchObject({ ok: false, code: 'ECHILD' });
  });
});
