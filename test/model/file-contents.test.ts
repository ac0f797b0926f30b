/**
 * Files with data before they are mapped: a memfd with pwritten tags (those pages, and only
 * those, are in the page cache: shmem_write_begin) and a disk file (every page written and
 * synced, so every page is cached; not shmem, so vma_can_userfault refuses it).
 */
import { describe, expect, test } from 'vitest';
import { MADV, MAP } from '../../src/space/constants.js';
import { code, P, RW, space, value } from './helpers.js';

const A = 0x10000000n;
const SHARED = MAP.SHARED | MAP.FIXED;

function present(s: ReturnType<typeof space>, addr: bigint, pages: number): boolean[] {
  return s.snapshot(addr, addr + BigInt(pages) * P).pages.map((p) => p.present);
}

describe('memfd initial contents', () => {
  test('a read fault maps the written pages around it with their tags, holes stay unmapped', () => {
    const s = space();
    const fd = value(
      s.memfd(
        8n * P,
        new Map([
          [2, 0x22n],
          [5, 0x55n],
        ]),
      ),
    );
    value(s.map({ addr: A, length: 8n * P, prot: RW, flags: SHARED, file: fd }));
    expect(value(s.read(A))).toBe(0n);
    expect(present(s, A, 8)).toEqual([true, false, true, false, false, true, false, false]);
    expect(value(s.read(A + 5n * P))).toBe(0x55n);
  });

  test('a private mapping reads the file data and copies it on write; the file keeps it', () => {
    const s = space();
    const fd = value(s.memfd(2n * P, new Map([[1, 7n]])));
    const flags = MAP.PRIVATE | MAP.FIXED;
    value(s.map({ addr: A, length: 2n * P, prot: RW, flags, file: fd }));
    expect(value(s.read(A + P))).toBe(7n);
    value(s.touch(A + P, 9n));
    value(s.map({ addr: A + 0x100000n, length: 2n * P, prot: RW, flags: SHARED, file: fd }));
    expect(value(s.read(A + 0x100000n + P))).toBe(7n);
    expect(value(s.read(A + P))).toBe(9n);
  });
});

describe('disk files', () => {
  test('every page is cached: a read fault maps the whole fault-around window in the VMA', () => {
    const s = space();
    const fd = value(s.diskFile(40n * P, new Map([[17, 117n]])));
    value(s.map({ addr: A, length: 24n * P, prot: RW, flags: SHARED, file: fd }));
    expect(value(s.read(A + 17n * P))).toBe(117n);
    const want = Array.from({ length: 24 }, (_, i) => i >= 16);
    expect(present(s, A, 24)).toEqual(want);
    expect(s.snapshot(A, A + P).vmas[0]).toMatchObject({ kind: 'file', shared: true });
  });

  test('userfaultfd refuses a disk file VMA (not shmem) and takes a memfd one', () => {
    const s = space();
    const disk = value(s.diskFile(2n * P));
    const mem = value(s.memfd(2n * P));
    value(s.map({ addr: A, length: 2n * P, prot: RW, flags: SHARED, file: disk }));
    value(s.map({ addr: A + 0x100000n, length: 2n * P, prot: RW, flags: SHARED, file: mem }));
    expect(code(s.uffdRegister(A, 2n * P))).toBe('EINVAL');
    expect(code(s.uffdRegister(A + 0x100000n, 2n * P))).toBe('ok');
  });

  test('MADV_REMOVE punches the hole in every shared mapping; private is EACCES', () => {
    const s = space();
    const fd = value(s.diskFile(4n * P));
    value(s.map({ addr: A, length: 4n * P, prot: RW, flags: SHARED, file: fd }));
    value(s.map({ addr: A + 0x100000n, length: 4n * P, prot: RW, flags: SHARED, file: fd }));
    const priv = A + 0x200000n;
    value(
      s.map({ addr: priv, length: 4n * P, prot: RW, flags: MAP.PRIVATE | MAP.FIXED, file: fd }),
    );
    value(s.read(A));
    value(s.read(A + 0x100000n));
    expect(code(s.advise(priv, P, MADV.REMOVE))).toBe('EACCES');
    expect(code(s.advise(A + P, 2n * P, MADV.REMOVE))).toBe('ok');
    expect(present(s, A + 0x100000n, 4)).toEqual([true, false, false, true]);
  });
});
