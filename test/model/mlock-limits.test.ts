/**
 * RLIMIT_MEMLOCK for a task without CAP_IPC_LOCK (rlimitMemlock set): mm/mlock.c
 * can_do_mlock and do_mlock, mm/mmap.c do_mmap's MAP_LOCKED checks. Without rlimitMemlock
 * the model stands for root and no limit applies.
 */
import { describe, expect, test } from 'vitest';
import { MAP, MLOCK } from '../../src/space/constants.js';
import { ANON, RW, P, anon, code, flagsAt, space, value } from './helpers.js';

const A = 0x10000000n;

describe('can_do_mlock / do_mlock / mlock_future_ok', () => {
  test('limit 0: mlock2 and MAP_LOCKED are EPERM, munlock is not; root is not limited', () => {
    const s = space('linux-6.18', { rlimitMemlock: 0n });
    anon(s, A, 4);
    expect(code(s.lock(A, P, 0))).toBe('EPERM');
    expect(code(s.lock(A, P, MLOCK.ONFAULT))).toBe('EPERM');
    expect(code(s.unlock(A, 4n * P))).toBe('ok');
    const locked = { addr: A + 8n * P, length: P, prot: RW, flags: ANON | MAP.LOCKED };
    expect(code(s.map(locked))).toBe('EPERM');
    const root = space();
    anon(root, A, 4);
    expect(code(root.lock(A, 4n * P, 0))).toBe('ok');
  });

  test('pages already locked in the range are not counted twice', () => {
    const s = space('linux-6.18', { rlimitMemlock: 4n * P });
    anon(s, A, 8);
    value(s.lock(A, 4n * P, 0));
    expect(code(s.lock(A, 5n * P, 0))).toBe('ENOMEM');
    expect(flagsAt(s, A + 4n * P)).not.toContain('lo');
    expect(code(s.lock(A, 4n * P, 0))).toBe('ok');
    expect(code(s.lock(A + P, 2n * P, 0))).toBe('ok');
    expect(s.lockedVm).toBe(4);
  });

  test('the limit is in whole pages, rounded down; MAP_LOCKED past it is EAGAIN', () => {
    const s = space('linux-6.18', { rlimitMemlock: 2n * P + 100n });
    anon(s, A, 4);
    expect(code(s.lock(A, 2n * P, 0))).toBe('ok');
    expect(code(s.lock(A, 3n * P, 0))).toBe('ENOMEM');
    const locked = { addr: A + 8n * P, length: P, prot: RW, flags: ANON | MAP.LOCKED };
    expect(code(s.map(locked))).toBe('EAGAIN');
  });
});
