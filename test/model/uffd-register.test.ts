import { describe, expect, test } from 'vitest';
import { MAP } from '../../src/space/constants.js';
import { anon, code, flagsAt, layout, P, RW, space, value } from './helpers.js';

const A = 0x10000000n;

describe('userfaultfd_register: holes are not checked, only an empty range is EINVAL', () => {
  test('a range with a hole between two VMAs arms both', () => {
    const s = space();
    anon(s, A, 2);
    anon(s, A + 4n * P, 2);
    expect(code(s.uffdRegister(A, 6n * P))).toBe('ok');
    expect(flagsAt(s, A)).toContain('um');
    expect(flagsAt(s, A + 5n * P)).toContain('um');
  });

  test('starting in a hole: the VMA after it is armed and split at the range end', () => {
    const s = space();
    anon(s, A + 2n * P, 4);
    expect(code(s.uffdRegister(A, 4n * P))).toBe('ok');
    expect(layout(s)).toEqual(['10002000-10004000', '10004000-10006000']);
    expect(flagsAt(s, A + 4n * P)).not.toContain('um');
  });

  test('ending in a hole is fine; a range with no VMA is EINVAL', () => {
    const s = space();
    anon(s, A, 2);
    expect(code(s.uffdRegister(A, 6n * P))).toBe('ok');
    expect(code(s.uffdRegister(A + 2n * P, 4n * P))).toBe('EINVAL');
  });

  test('a touch of an armed, unfaulted page would block: EFAULT in the model', () => {
    const s = space();
    anon(s, A, 2);
    expect(code(s.uffdRegister(A, 4n * P))).toBe('ok');
    expect(code(s.touch(A, 1n))).toBe('EFAULT');
  });
});

describe('MISSING userfaults on shmem: only for a page absent from the page cache', () => {
  test('a cached page is mapped without a userfault; an uncached one still faults', () => {
    const s = space();
    const fd = value(s.memfd(4n * P));
    const flags = MAP.SHARED | MAP.FIXED;
    value(s.map({ addr: A, length: 4n * P, prot: RW, flags, file: fd }));
    expect(code(s.uffdRegister(A, 4n * P))).toBe('ok');
    value(s.map({ addr: A + 0x100000n, length: P, prot: RW, flags, file: fd }));
    value(s.touch(A + 0x100000n, 9n));
    expect(value(s.read(A))).toBe(9n);
    expect(code(s.read(A + P))).toBe('EFAULT');
  });
});

describe('anon_vma_prepare runs before the fault gives up or maps a zero page', () => {
  test('a write fault that raises a MISSING userfault leaves an anon_vma: fork copies the PTEs', () => {
    const s = space();
    anon(s, A, 3);
    value(s.read(A));
    value(s.uffdRegister(A, 2n * P));
    expect(code(s.touch(A + P, 1n))).toBe('EFAULT');
    const child = s.forkSpace();
    expect(child.snapshot(A, A + P).pages[0]!.present).toBe(true);
  });

  test('a read fault that maps the huge zero page leaves an anon_vma too', () => {
    const s = space('linux-6.18', { thp: 'madvise' });
    const T = 0x40000000n;
    anon(s, T, 512);
    value(s.advise(T, 0x200000n, 14 /* MADV_HUGEPAGE */));
    value(s.read(T));
    const child = s.forkSpace();
    const pg = child.snapshot(T, T + P).pages[0]!;
    expect([pg.present, pg.zero, pg.thp]).toEqual([true, true, true]);
  });
});
