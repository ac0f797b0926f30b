import { describe, expect, test } from 'vitest';
import { getProfile, withOverrides } from '../../src/model/profiles.js';
import { MADV, PROT } from '../../src/space/constants.js';
import { anon, code, fill, flagsAt, layout, space, value, P } from './helpers.js';

const A = 0x10000000n;
/** 6.10–6.11: can_modify_mm over the whole range first. */
const RANGE = withOverrides(getProfile('linux-6.18'), { mseal: 'range' }, 'mseal-range');

/** a = [A, A+4p) rw and touched; b = [A+4p, A+8p) read-only anonymous, touched, sealed. */
function sealedAfter(profile: string | typeof RANGE = 'linux-6.18') {
  const s = space('linux-6.18', { profile });
  anon(s, A, 4);
  fill(s, A, 4);
  anon(s, A + 4n * P, 4, PROT.READ | PROT.WRITE | PROT.EXEC);
  fill(s, A + 4n * P, 4);
  value(s.protect(A + 4n * P, 4n * P, PROT.READ));
  value(s.seal(A + 4n * P, 4n * P));
  return s;
}

describe('vms_gather_munmap_vmas (6.12+): the first VMA is split before a sealed one is found', () => {
  test('munmap into a sealed VMA: EPERM, first VMA split', () => {
    const s = sealedAfter();
    expect(code(s.unmap(A + 2n * P, 4n * P))).toBe('EPERM');
    expect(layout(s)).toEqual(['10000000-10002000', '10002000-10004000', '10004000-10008000']);
  });

  test('a sealed first VMA is refused before its split', () => {
    const s = sealedAfter();
    expect(code(s.unmap(A + 5n * P, P))).toBe('EPERM');
    expect(layout(s)).toEqual(['10000000-10004000', '10004000-10008000']);
  });

  test('MAP_FIXED over the same range leaves the same split', () => {
    const s = sealedAfter();
    expect(code(s.map({ addr: A + 3n * P, length: 2n * P, prot: 3, flags: 0x32 }))).toBe('EPERM');
    expect(layout(s)).toEqual(['10000000-10003000', '10003000-10004000', '10004000-10008000']);
  });

  test('6.10–6.11 (mseal: range) refuse before anything changes', () => {
    const s = sealedAfter(RANGE);
    expect(code(s.unmap(A + 2n * P, 4n * P))).toBe('EPERM');
    expect(layout(s)).toEqual(['10000000-10004000', '10004000-10008000']);
  });
});

describe('madvise seal checks: per VMA as the walk goes (6.12+), DONTFORK/WIPEONFORK are discards', () => {
  test('DONTNEED zaps the unsealed VMA, then EPERM at the sealed one', () => {
    const s = sealedAfter();
    expect(code(s.advise(A, 8n * P, MADV.DONTNEED))).toBe('EPERM');
    expect(s.snapshot(A, A + P).pages[0]!.present).toBe(false);
    expect(value(s.read(A + 4n * P))).toBe(A + 4n * P);
  });

  test('6.10–6.11: the whole range is checked first; nothing is zapped', () => {
    const s = sealedAfter(RANGE);
    expect(code(s.advise(A, 8n * P, MADV.DONTNEED))).toBe('EPERM');
    expect(s.snapshot(A, A + P).pages[0]!.present).toBe(true);
  });

  test('DONTFORK and WIPEONFORK on sealed read-only anon are EPERM; DOFORK is not a discard', () => {
    const s = sealedAfter();
    expect(code(s.advise(A + 4n * P, 4n * P, MADV.DONTFORK))).toBe('EPERM');
    expect(code(s.advise(A + 4n * P, 4n * P, MADV.WIPEONFORK))).toBe('EPERM');
    expect(code(s.advise(A + 4n * P, 4n * P, MADV.DOFORK))).toBe('ok');
    expect(code(s.advise(A + 2n * P, 4n * P, MADV.DONTFORK))).toBe('EPERM');
    expect(flagsAt(s, A + 2n * P)).toContain('dc');
    expect(flagsAt(s, A + P)).not.toContain('dc');
    expect(flagsAt(s, A + 4n * P)).not.toContain('dc');
  });
});
