/** src/model/load.ts: the signal a CPU load raises, and MAP_GROWSDOWN rules (mm/mmap.c). */
import { describe, expect, test } from 'vitest';
import { MADV, MAP, PROT } from '../../src/space/constants.js';
import { ANON, P, RW, SHARED_ANON, anon, code, fill, space, value } from './helpers.js';

const A = 0x10000000n;
const GD = ANON | MAP.GROWSDOWN;

describe('loadAt (arch/x86/mm/fault.c)', () => {
  test('hole MAPERR, PROT_NONE ACCERR, guard marker MAPERR, present page its tag', () => {
    const s = space();
    anon(s, A, 3);
    fill(s, A, 3);
    value(s.protect(A + P, P, PROT.NONE));
    value(s.advise(A + 2n * P, P, MADV.GUARD_INSTALL));
    expect(value(s.load(A - P))).toEqual({ signal: 'SIGSEGV', code: 'SEGV_MAPERR' });
    expect(value(s.load(A + P))).toEqual({ signal: 'SIGSEGV', code: 'SEGV_ACCERR' });
    expect(value(s.load(A + 2n * P))).toEqual({ signal: 'SIGSEGV', code: 'SEGV_MAPERR' });
    expect(value(s.load(A))).toEqual({ signal: null, value: A });
  });

  test('past the shmem file of a grown MAP_SHARED anonymous mapping: BUS_ADRERR', () => {
    const s = space();
    value(s.map({ addr: A, length: 2n * P, prot: RW, flags: SHARED_ANON }));
    value(s.remap({ addr: A, oldLen: 2n * P, newLen: 4n * P, flags: 0n, newAddr: 0n }));
    expect(value(s.load(A + P))).toEqual({ signal: null, value: 0n });
    expect(value(s.load(A + 2n * P))).toEqual({ signal: 'SIGBUS', code: 'BUS_ADRERR' });
    expect(code(s.read(A + 2n * P))).toBe('EFAULT');
  });

  test('a load judges without mapping anything; DONTFORK VMAs are holes to the fork', () => {
    const s = space();
    anon(s, A, 2);
    expect(value(s.load(A))).toEqual({ signal: null, value: 0n });
    expect(s.snapshot(A, A + 2n * P).pages.every((p) => !p.present)).toBe(true);
    value(s.advise(A + P, P, MADV.DONTFORK));
    expect(value(s.load(A + P))).toEqual({ signal: 'SIGSEGV', code: 'SEGV_MAPERR' });
  });
});

describe('MAP_GROWSDOWN', () => {
  test('only private anonymous; separate from a plain neighbour', () => {
    const s = space();
    expect(code(s.map({ addr: A, length: P, prot: RW, flags: SHARED_ANON | MAP.GROWSDOWN }))).toBe(
      'EINVAL',
    );
    value(s.map({ addr: A + P, length: P, prot: RW, flags: GD }));
    anon(s, A, 1);
    expect(
      s.snapshot(A, A + 2n * P, { vmFlags: true }).vmas.map((v) => v.vmFlags?.includes('gd')),
    ).toEqual([false, true]);
  });

  test('a load below grows the stack unless an accessible VMA is within stack_guard_gap', () => {
    const s = space('linux-6.18', { stackGuardGap: 16 });
    const top = A + 64n * P;
    value(s.map({ addr: top, length: P, prot: RW, flags: GD }));
    expect(code(s.touch(top - P, 1n))).toBe('EFAULT'); // GUP does not grow it (6.5 / 6.1.37)
    expect(value(s.load(top - 10n * P)).signal).toBeNull();
    anon(s, A + 40n * P, 1); // ends 23 pages below top
    expect(value(s.load(top - 7n * P)).signal).toBeNull(); // 16 pages above its end
    expect(value(s.load(top - 8n * P))).toEqual({ signal: 'SIGSEGV', code: 'SEGV_MAPERR' });
    value(s.protect(A + 40n * P, P, PROT.NONE)); // vma_is_accessible: PROT_NONE does not block
    expect(value(s.load(top - 8n * P)).signal).toBeNull();
  });

  test('a hint within stack_guard_gap below is not taken; one below the gap is', () => {
    const s = space('linux-6.18', { stackGuardGap: 16, placeUnfixed: () => 0x20000000n });
    const top = A + 64n * P;
    value(s.map({ addr: top, length: P, prot: RW, flags: GD }));
    const hinted = MAP.PRIVATE | MAP.ANONYMOUS;
    expect(value(s.map({ addr: top - 16n * P, length: P, prot: RW, flags: hinted }))).toBe(
      0x20000000n,
    );
    expect(value(s.map({ addr: top - 17n * P, length: P, prot: RW, flags: hinted }))).toBe(
      top - 17n * P,
    );
  });

  test('PROT_GROWSDOWN reaches down to a growsdown VMA start; GROWSUP and both bits EINVAL', () => {
    const s = space();
    value(s.map({ addr: A, length: 4n * P, prot: RW, flags: GD }));
    anon(s, A + 8n * P, 1);
    value(s.protect(A + 2n * P, P, PROT.READ | 0x01000000));
    expect(s.snapshot(A, A + 4n * P).vmas.map((v) => [v.end - v.start, v.prot])).toEqual([
      [3n * P, 'r--'],
      [P, 'rw-'],
    ]);
    expect(code(s.protect(A + 8n * P, P, PROT.READ | 0x01000000))).toBe('EINVAL');
    expect(code(s.protect(A, P, PROT.READ | 0x02000000))).toBe('EINVAL');
    expect(code(s.protect(A + 1n, P, PROT.READ | 0x03000000))).toBe('EINVAL');
  });
});
