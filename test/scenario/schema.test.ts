import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/schema.js';
import { good, problem as pathOf } from './validation-helpers.js';

describe('scenario validation', () => {
  it('accepts a minimal scenario', () => {
    expect(validateScenario(good).id).toBe('x');
  });

  it('names the JSON path and what is expected', () => {
    expect(pathOf({ ...good, arena: { pages: 0 } })).toEqual([
      '$.arena.pages',
      expect.stringContaining('from 1 to 1048576'),
    ]);
    expect(pathOf({ ...good, steps: [{ op: 'teleport' }] })[0]).toBe('$.steps[0].op');
    expect(pathOf({ ...good, steps: [{ op: 'map', at: '@0' }] })).toEqual([
      '$.steps[0].len',
      '"map" needs "len"',
    ]);
    expect(
      pathOf({
        ...good,
        steps: [{ op: 'mremap', at: '@0', oldLen: 1, newLen: 1, flags: ['MAYMOVE', 'TELEPORT'] }],
      }),
    ).toEqual(['$.steps[0].flags[1]', expect.stringContaining('unknown mremap flag "TELEPORT"')]);
    expect(pathOf({ ...good, steps: [{ op: 'map', at: 'x y', len: 1 }] })[0]).toBe('$.steps[0].at');
    expect(pathOf({ ...good, extra: 1 })).toEqual([
      '$.extra',
      expect.stringContaining('unknown field "extra"'),
    ]);
    expect(pathOf({ ...good, requires: { features: ['warp'] } })[0]).toBe('$.requires.features[0]');
    expect(
      pathOf({ ...good, steps: [{ op: 'map', at: '@0', len: 1, expect: { errno: 'einval' } }] })[0],
    ).toBe('$.steps[0].expect.errno');
  });

  it('refuses a fork inside the child after fork-continue; memfd and uffd run there', () => {
    const v = { ...good, steps: [{ op: 'fork-continue' }, { op: 'fork' }] };
    expect(pathOf(v)).toEqual([
      '$.steps[1].op',
      expect.stringContaining('cannot run inside the child'),
    ]);
    const memfd = { op: 'memfd', name: 'f', pages: 1 };
    const uffd = { op: 'uffd', at: '@0', len: 1 };
    expect(
      validateScenario({ ...good, steps: [{ op: 'fork-continue' }, memfd, uffd] }).steps,
    ).toHaveLength(3);
  });
});

const base = { id: 'x', title: 't', source: 's', arena: { pages: 32 } };

describe('scenario format: expect.kernels and expectation lists', () => {
  it('accepts one expectation or a list, each with an optional range', () => {
    const sc = validateScenario({
      ...base,
      steps: [
        { op: 'map', at: '@2', len: 2, expect: { ok: true } },
        { op: 'check', expect: [{ kernels: '>=6.7 <6.16', vmaCount: 1 }, { kernels: '6.12' }] },
      ],
    });
    expect(sc.steps[1]!.expect).toHaveLength(2);
  });

  it('rejects a bad range or an empty list, naming the path', () => {
    expect(
      pathOf({
        ...base,
        steps: [{ op: 'check', expect: [{ ok: true }, { kernels: '6.17+', ok: true }] }],
      }),
    ).toEqual([
      '$.steps[0].expect[1].kernels',
      expect.stringContaining('"6.17+" is not a comparator'),
    ]);
    expect(pathOf({ ...base, steps: [{ op: 'check', expect: [] }] })).toEqual([
      '$.steps[0].expect',
      'expected an expectation object or a non-empty array of them',
    ]);
  });
});
