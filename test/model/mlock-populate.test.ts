import { describe, expect, test } from 'vitest';
import { MAP, MLOCK, PROT } from '../../src/space/constants.js';
import { anon, code, flagsAt, P, space, value } from './helpers.js';

const A = 0x10000000n;

function present(s: ReturnType<typeof space>, addr: bigint): boolean {
  return s.snapshot(addr, addr + P).pages[0]!.present;
}

describe('populate_vma_page_range / __mm_populate', () => {
  test('VM_LOCKONFAULT: growing the VMA populates nothing; plain VM_LOCKED populates the tail', () => {
    const s = space();
    anon(s, A, 2);
    value(s.lock(A, 2n * P, MLOCK.ONFAULT));
    value(s.remap({ addr: A, oldLen: 2n * P, newLen: 6n * P, flags: 0n, newAddr: 0n }));
    expect(present(s, A + 5n * P)).toBe(false);
    const t = space();
    anon(t, A, 2);
    value(t.lock(A, 2n * P, 0));
    value(t.remap({ addr: A, oldLen: 2n * P, newLen: 6n * P, flags: 0n, newAddr: 0n }));
    expect(present(t, A + 5n * P)).toBe(true);
  });

  test('mlock of PROT_NONE: VM_LOCKED set, population fails: ENOMEM', () => {
    const s = space();
    anon(s, A, 2, PROT.NONE);
    expect(code(s.lock(A, 2n * P, 0))).toBe('ENOMEM');
    expect(flagsAt(s, A)).toContain('lo');
    expect(code(s.lock(A, 2n * P, MLOCK.ONFAULT))).toBe('ok');
  });

  test('population stops at the first failing VMA', () => {
    const s = space();
    anon(s, A, 2);
    anon(s, A + 2n * P, 2, PROT.NONE);
    anon(s, A + 4n * P, 2, PROT.READ);
    expect(code(s.lock(A, 6n * P, 0))).toBe('ENOMEM');
    expect([present(s, A), present(s, A + 4n * P)]).toEqual([true, false]);
    expect(flagsAt(s, A + 4n * P)).toContain('lo');
  });

  test('past a memfd end: pages up to EOF populated, then ENOMEM', () => {
    const s = space();
    const fd = value(s.memfd(2n * P));
    value(s.map({ addr: A, length: 4n * P, prot: 3, flags: MAP.SHARED | MAP.FIXED, file: fd }));
    expect(code(s.lock(A, 4n * P, 0))).toBe('ENOMEM');
    expect([present(s, A + P), present(s, A + 2n * P)]).toEqual([true, false]);
  });
});

describe('mprotect_fixup: a locked private VMA made writable is populated (CoW broken)', () => {
  test('zero pages become private pages; onfault and shared VMAs are left alone', () => {
    const s = space();
    anon(s, A, 2, PROT.READ);
    value(s.lock(A, 2n * P, 0));
    expect(s.snapshot(A, A + P).pages[0]!.zero).toBe(true);
    value(s.protect(A, 2n * P, PROT.READ | PROT.WRITE));
    expect(s.snapshot(A, A + P).pages[0]!.zero).toBe(false);

    const t = space();
    anon(t, A, 2, PROT.READ);
    value(t.lock(A, 2n * P, MLOCK.ONFAULT));
    value(t.protect(A, 2n * P, PROT.READ | PROT.WRITE));
    expect(present(t, A)).toBe(false);
  });
});

describe('apply_vma_lock_flags continues from vma_iter_end()', () => {
  test('a piece merged into the locked next VMA is not followed by a "hole"', () => {
    const s = space();
    anon(s, A, 2);
    anon(s, A + 2n * P, 4);
    value(s.lock(A + 2n * P, 4n * P, 0));
    anon(s, A + 6n * P, 2, PROT.READ);
    expect(code(s.lock(A, 8n * P, 0))).toBe('ok');
    expect(flagsAt(s, A + 7n * P)).toContain('lo');
  });
});
