/**
 * Each raw wrapper round-trips on the running kernel, and bad calls come back as the errno
 * the kernel gives (mm/mremap.c check_mremap_params(), check_prep_vma()).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { sys } from '../../src/kernel/syscalls.js';
import { MAP, MADV, MREMAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

const RW = PROT.READ | PROT.WRITE;
const ANON_FIXED = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;

let arena: Arena;
beforeEach(() => {
  arena = Arena.reserve({ size: 256n * PAGE_SIZE, interior: 'empty' });
});
afterEach(() => arena.release());

describe('raw syscalls', () => {
  it('maps, moves with MAYMOVE|FIXED keeping data, and unmaps', () => {
    const a = arena.page(0);
    const b = arena.page(64);
    expect(sys.mmap(a, 4n * PAGE_SIZE, RW, ANON_FIXED)).toEqual({ ok: true, value: a });
    for (let i = 0n; i < 4n; i++)
      expect(sys.writeTag(0, a + i * PAGE_SIZE, 0xabc0n + i).ok).toBe(true);
    const r = sys.mremap(a, 4n * PAGE_SIZE, 4n * PAGE_SIZE, MREMAP.MAYMOVE | MREMAP.FIXED, b);
    expect(r).toEqual({ ok: true, value: b });
    for (let i = 0n; i < 4n; i++) {
      expect(sys.readTag(0, b + i * PAGE_SIZE)).toEqual({ ok: true, value: 0xabc0n + i });
    }
    // The source is gone: reading it is EFAULT, not a crash.
    expect(sys.readTag(0, a)).toMatchObject({ ok: false, code: 'EFAULT' });
    expect(sys.munmap(b, 4n * PAGE_SIZE)).toEqual({ ok: true, value: 0 });
    expect(sys.readTag(0, b)).toMatchObject({ ok: false, code: 'EFAULT' });
  });

  it('returns EINVAL for a misaligned address (check_mremap_params)', () => {
    const a = arena.page(0);
    sys.mmap(a, PAGE_SIZE, RW, ANON_FIXED);
    expect(sys.mremap(a + 1n, PAGE_SIZE, PAGE_SIZE, 0n, 0n)).toEqual({
      ok: false,
      errno: 22,
      code: 'EINVAL',
    });
  });

  it('returns EINVAL for FIXED without MAYMOVE', () => {
    const a = arena.page(0);
    sys.mmap(a, PAGE_SIZE, RW, ANON_FIXED);
    expect(sys.mremap(a, PAGE_SIZE, PAGE_SIZE, MREMAP.FIXED, arena.page(8))).toMatchObject({
      code: 'EINVAL',
    });
  });

  it('returns EFAULT for an unmapped source (vma_lookup fails)', () => {
    // Raw calls see the arena's placeholders: take them out for the call, as KernelSpace does.
    arena.open([{ start: arena.page(10), end: arena.page(12) }]);
    try {
      expect(sys.mremap(arena.page(10), PAGE_SIZE, 2n * PAGE_SIZE, 0n, 0n)).toMatchObject({
        code: 'EFAULT',
      });
    } finally {
      arena.fill();
    }
  });

  it('returns ENOMEM when growth in place is blocked and MAYMOVE is absent', () => {
    const a = arena.page(0);
    sys.mmap(a, 2n * PAGE_SIZE, RW, ANON_FIXED);
    sys.mmap(a + 2n * PAGE_SIZE, PAGE_SIZE, PROT.READ, ANON_FIXED);
    expect(sys.mremap(a, 2n * PAGE_SIZE, 3n * PAGE_SIZE, 0n, 0n)).toMatchObject({ code: 'ENOMEM' });
  });

  it('mprotect, madvise(DONTNEED) and mlock2 round-trip', () => {
    const a = arena.page(0);
    sys.mmap(a, 2n * PAGE_SIZE, RW, ANON_FIXED);
    expect(sys.writeTag(0, a, 7n).ok).toBe(true);
    expect(sys.madvise(a, PAGE_SIZE, MADV.DONTNEED).ok).toBe(true);
    expect(sys.readTag(0, a)).toEqual({ ok: true, value: 0n });
    expect(sys.mprotect(a, PAGE_SIZE, PROT.READ).ok).toBe(true);
    expect(sys.writeTag(0, a, 1n)).toMatchObject({ ok: false, code: 'EFAULT' });
    expect(sys.mlock2(a + PAGE_SIZE, PAGE_SIZE, 0)).toEqual({ ok: true, value: 0 });
    expect(sys.munlock(a + PAGE_SIZE, PAGE_SIZE)).toEqual({ ok: true, value: 0 });
  });

  it('fills and verifies a pattern over a range in C++, and finds a changed byte', () => {
    const a = arena.page(0);
    const len = 16n * PAGE_SIZE;
    sys.mmap(a, len, RW, ANON_FIXED);
    expect(sys.fillPattern(0, a, len, 42n)).toEqual({ ok: true, value: len });
    expect(sys.verifyPattern(0, a, len, 42n)).toEqual({ ok: true, value: (1n << 64n) - 1n });
    sys.writeTag(0, a + 5n * PAGE_SIZE, 0n);
    expect(sys.verifyPattern(0, a, len, 42n)).toEqual({ ok: true, value: 5n * PAGE_SIZE });
    expect(sys.fillPattern(0, arena.page(100), PAGE_SIZE, 1n)).toMatchObject({ code: 'EFAULT' });
  });

  it('memfd_create + ftruncate give a mappable shared file', () => {
    const fd = sys.memfdCreate('t');
    expect(fd.ok).toBe(true);
    if (!fd.ok) return;
    expect(sys.ftruncate(fd.value, 2n * PAGE_SIZE).ok).toBe(true);
    const a = arena.page(0);
    expect(sys.mmap(a, 2n * PAGE_SIZE, RW, MAP.SHARED | MAP.FIXED, fd.value, 0n)).toEqual({
      ok: true,
      value: a,
    });
    expect(sys.writeTag(0, a + PAGE_SIZE, 99n).ok).toBe(true);
    // A page past EOF is SIGBUS for a CPU access; here it is an error result.
    sys.ftruncate(fd.value, PAGE_SIZE);
    expect(sys.readTag(0, a + PAGE_SIZE)).toMatchObject({ ok: false, code: 'EFAULT' });
    sys.close(fd.value);
  });

  it('mseal: ENOSYS or success are both results, never a crash', () => {
    const r = sys.mseal(arena.start, 0n);
    expect(r.ok || r.code === 'ENOSYS').toBe(true);
  });
});
