/**
 * Scenario-format gaps closed without changing what existing files mean: `minKernel` with a
 * patch level, and the p/s letter of an expected `prot` (accepted before, now checked).
 */
import { describe, expect, it } from 'vitest';
import { ModelSpace } from '../../src/model/address-space.js';
import { versionAtLeast } from '../../src/scenario/kernel-range.js';
import { modelSide } from '../../src/scenario/model-side.js';
import { ScenarioRunner } from '../../src/scenario/runner.js';
import { validateScenario } from '../../src/scenario/schema.js';

const base = { id: 'x', title: 't', source: 's', arena: { pages: 16 } };

describe('requires.minKernel with a patch level', () => {
  it('is accepted and compared to the patch', () => {
    const sc = validateScenario({
      ...base,
      requires: { minKernel: '6.12.40' },
      steps: [{ op: 'check' }],
    });
    expect(sc.requires?.minKernel).toBe('6.12.40');
    expect(versionAtLeast('6.12.57', '6.12.40')).toBe(true);
    expect(versionAtLeast('6.12.39', '6.12.40')).toBe(false);
    // Debian's uname carries the ABI number, not the stable patch: 6.1.0-57 is 6.1.0.
    expect(versionAtLeast('6.1.0-57-amd64', '6.1.100')).toBe(false);
  });

  it('still refuses what is not a version', () => {
    expect(() =>
      validateScenario({ ...base, requires: { minKernel: '6.12.x' }, steps: [{ op: 'check' }] }),
    ).toThrow(/expected a version like "6.17" or "6.12.40"/);
  });
});

describe('expect.vmas[].prot with the p/s letter', () => {
  const start = 0x100000000000n;
  const end = start + 16n * 4096n;
  const run = (prot: string) => {
    const sc = validateScenario({
      ...base,
      steps: [
        { op: 'map', at: '@2', len: 2, kind: 'shared' },
        { op: 'check', expect: { vmas: [{ start: '@2', end: '@4', prot }] } },
      ],
    });
    return new ScenarioRunner(
      sc,
      modelSide(new ModelSpace({ window: { start, end } }), undefined, 'kernel'),
      modelSide(new ModelSpace({ window: { start, end } })),
      { arenaStart: start, arenaEnd: end },
    ).run().expectationFailures;
  };

  it('three letters say nothing about sharing, as before', () => {
    expect(run('rw-')).toEqual([]);
  });

  it('"s" holds for a shared mapping and "p" does not', () => {
    expect(run('rw-s')).toEqual([]);
    expect(run('rw-p')).toHaveLength(2);
  });
});
