import { describe, expect, test } from 'vitest';
import { getProfile } from '../../src/model/profiles.js';
import { uffdApiFeaturesOf } from '../../src/model/uffd-features.js';
import { MREMAP, UFFD_FEATURE as F, UFFDIO_REGISTER_MODE as M } from '../../src/space/constants.js';
import type { ScenarioInputError } from '../../src/scenario/address.js';
import { validateScenario } from '../../src/scenario/schema.js';
import { anon, code, flagsAt, P, space, value } from './helpers.js';

const A = 0x10000000n;
const D = 0x20000000n;
const { MAYMOVE, FIXED } = MREMAP;

describe('UFFD_API_FEATURES per release (fs/userfaultfd.c:userfaultfd_api)', () => {
  test("6.1 is Debian's 6.1.192 uapi set; 6.12 is 6.12.118's; nothing added after 6.8", () => {
    const all = Object.values(F).reduce((a, b) => a | b, 0);
    expect(uffdApiFeaturesOf('6.1')).toBe(
      all & ~(F.WP_UNPOPULATED | F.POISON | F.WP_ASYNC | F.MOVE),
    );
    expect(uffdApiFeaturesOf('6.4') & F.WP_UNPOPULATED).toBe(F.WP_UNPOPULATED);
    expect(uffdApiFeaturesOf('6.6') & (F.POISON | F.WP_ASYNC)).toBe(F.POISON);
    expect(uffdApiFeaturesOf('6.7') & (F.WP_ASYNC | F.MOVE)).toBe(F.WP_ASYNC);
    expect(uffdApiFeaturesOf('6.12')).toBe(all);
    expect(getProfile('linux-6.18').uffdApiFeatures).toBe(all);
    expect(getProfile('linux-6.6').uffdApiFeatures).toBe(uffdApiFeaturesOf('6.6'));
  });

  test('a feature the release lacks is EINVAL and leaves the range unregistered', () => {
    for (const [profile, want] of [
      ['linux-6.1', 'EINVAL'],
      ['linux-6.6', 'ok'],
    ] as const) {
      const s = space(profile);
      anon(s, A, 2);
      expect(code(s.uffdRegister(A, 2n * P, { features: F.POISON }))).toBe(want);
      expect(flagsAt(s, A).includes('um')).toBe(want === 'ok');
    }
    const s = space('linux-6.6');
    anon(s, A, 2);
    expect(code(s.uffdRegister(A, 2n * P, { features: F.WP_ASYNC, mode: M.WP }))).toBe('EINVAL');
  });
});

describe('userfaultfd_register modes and vma_can_userfault', () => {
  test('WP and MINOR set uw and ui; MINOR on private anon is EINVAL; bad modes are EINVAL', () => {
    const s = space();
    anon(s, A, 2);
    expect(code(s.uffdRegister(A, 2n * P, { mode: M.MINOR }))).toBe('EINVAL');
    expect(code(s.uffdRegister(A, 2n * P, { mode: 0 }))).toBe('EINVAL');
    expect(code(s.uffdRegister(A, 2n * P, { mode: 8 }))).toBe('EINVAL');
    expect(code(s.uffdRegister(A, 2n * P, { mode: M.MISSING | M.WP }))).toBe('ok');
    expect(flagsAt(s, A)).toEqual(expect.arrayContaining(['um', 'uw']));
  });

  test('a second ctx on an armed VMA is EBUSY', () => {
    const s = space();
    anon(s, A, 2);
    value(s.uffdRegister(A, 2n * P));
    expect(code(s.uffdRegister(A, P, { features: 0 }))).toBe('EBUSY');
  });
});

describe('mremap_userfaultfd_prep', () => {
  test('EVENT_REMAP: the moved VMA keeps its ctx and modes; without it, it loses them', () => {
    for (const [features, kept] of [
      [F.EVENT_REMAP, true],
      [0, false],
    ] as const) {
      const s = space();
      anon(s, A, 2);
      value(s.uffdRegister(A, 2n * P, { features, mode: M.MISSING | M.WP }));
      value(
        s.remap({ addr: A, oldLen: 2n * P, newLen: 2n * P, flags: MAYMOVE | FIXED, newAddr: D }),
      );
      const f = flagsAt(s, D);
      expect(f.includes('um') && f.includes('uw')).toBe(kept);
      expect(f.includes('um') || f.includes('uw')).toBe(kept);
    }
  });
});

describe('uffd step fields', () => {
  const sc = (step: object) => ({
    id: 'x',
    title: 't',
    source: 's',
    arena: { pages: 8 },
    steps: [
      { op: 'map', at: '@1', len: 1 },
      { op: 'uffd', at: '@1', len: 1, ...step },
    ],
  });
  const refusal = (step: object): { path: string; message: string } | null => {
    try {
      validateScenario(sc(step));
      return null;
    } catch (e) {
      return { path: (e as ScenarioInputError).path, message: (e as Error).message };
    }
  };
  test('unknown features and modes are refused with the path and the choices', () => {
    const bad = refusal({ features: ['POISSON'] });
    expect(bad?.path).toBe('$.steps[1].features[0]');
    expect(bad?.message).toMatch(/unknown userfaultfd feature "POISSON": use .*POISON/);
    expect(refusal({ features: ['EVENT_FORK'] })?.message).toMatch(/EVENT_FORK is not supported/);
    expect(refusal({ mode: 'missing|rw' })).toEqual({
      path: '$.steps[1].mode',
      message: 'unknown userfaultfd mode "rw": use "missing", "wp" or "minor"',
    });
    expect(refusal({ features: ['EVENT_REMAP'], mode: ['missing', 'wp'] })).toBeNull();
  });
});
