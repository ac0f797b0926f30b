import { describe, expect, test } from 'vitest';
import { getProfile, withOverrides } from '../../src/model/profiles.js';
import { MADV, MAP, MLOCK } from '../../src/space/constants.js';
import { anon, code, fill, P, RW, space, value } from './helpers.js';

const A = 0x10000000n;
const ANON_ONLY = withOverrides(getProfile('linux-6.18'), { guardRegions: 'anon' }, '6.13-like');

describe('MADV_GUARD_INSTALL / MADV_GUARD_REMOVE (profile switch guardRegions)', () => {
  test('install discards and faults; remove leaves empty pages; before 6.13 EINVAL', () => {
    const s = space();
    anon(s, A, 4);
    fill(s, A, 4);
    value(s.advise(A + P, 2n * P, MADV.GUARD_INSTALL));
    expect(s.snapshot(A + P, A + 2n * P).pages[0]!.present).toBe(false);
    expect(code(s.read(A + P))).toBe('EFAULT');
    expect(code(s.touch(A + 2n * P, 1n))).toBe('EFAULT');
    value(s.advise(A, 4n * P, MADV.GUARD_REMOVE));
    expect(value(s.read(A + P))).toBe(0n);
    expect(value(s.read(A))).toBe(A);

    const old = space('linux-6.12');
    anon(old, A, 4);
    expect(code(old.advise(A, P, MADV.GUARD_INSTALL))).toBe('EINVAL');
  });

  test('locked VMAs refuse install, allow remove; DONTNEED keeps markers, munmap drops them', () => {
    const s = space();
    anon(s, A, 4);
    value(s.advise(A, P, MADV.GUARD_INSTALL));
    value(s.lock(A + P, P, MLOCK.ONFAULT));
    expect(code(s.advise(A + P, P, MADV.GUARD_INSTALL))).toBe('EINVAL');
    expect(code(s.advise(A + P, P, MADV.GUARD_REMOVE))).toBe('ok');
    value(s.advise(A, P, MADV.DONTNEED));
    expect(code(s.read(A))).toBe('EFAULT');
    value(s.unmap(A, P));
    anon(s, A, 1);
    expect(value(s.read(A))).toBe(0n);
  });

  test('markers move with mremap and are copied to a fork child', () => {
    const s = space();
    anon(s, A, 4);
    value(s.advise(A + 2n * P, P, MADV.GUARD_INSTALL));
    value(s.remap({ addr: A, oldLen: 4n * P, newLen: 4n * P, flags: 3n, newAddr: A + 0x100000n }));
    expect(code(s.read(A + 0x100000n + 2n * P))).toBe('EFAULT');
    const child = s.forkSpace();
    expect(code(child.read(A + 0x100000n + 2n * P))).toBe('EFAULT');
  });

  test('file-backed mappings: allowed from 6.15, EINVAL on 6.13–6.14', () => {
    for (const [profile, want] of [
      ['linux-6.18', 'ok'],
      [ANON_ONLY, 'EINVAL'],
    ] as const) {
      const s = space('linux-6.18', { profile });
      const fd = value(s.memfd(4n * P));
      value(s.map({ addr: A, length: 4n * P, prot: RW, flags: MAP.SHARED | MAP.FIXED, file: fd }));
      expect(code(s.advise(A, P, MADV.GUARD_INSTALL))).toBe(want);
    }
  });
});
