/**
 * Version ranges on hand-written expectations (`expect.kernels`): parsing, the schema, and
 * the runner checking an expectation only on a side whose version is in range, saying so.
 */
import { describe, expect, it } from 'vitest';
import { ModelSpace } from '../../src/model/address-space.js';
import { inRange, rangeError, versionAtLeast } from '../../src/scenario/kernel-range.js';
import { modelSide } from '../../src/scenario/model-side.js';
import { ScenarioRunner } from '../../src/scenario/runner.js';
import { validateScenario } from '../../src/scenario/schema.js';
import type { Scenario } from '../../src/scenario/types.js';

describe('kernel ranges', () => {
  it.each([
    ['6.1.0-27-amd64', '<6.17', true],
    ['6.1.0-27-amd64', '>=6.17', false],
    ['6.17', '>=6.17', true],
    ['6.18.44-fc-v669', '>=6.15 <6.18', false],
    ['6.16.3', '>=6.15 <6.18', true],
    ['6.12.57', '6.12', true],
    ['6.13.0', '6.12', false],
    ['6.12.57', '6.12.40', false],
    ['6.12.40', '=6.12.40', true],
    ['6.12.40', '>6.12.39 <=6.12.40', true],
  ])('%s in %s: %s (release read up to its first non-version character)', (rel, range, want) => {
    expect(inRange(rel, range)).toBe(want);
  });

  it('requires.minKernel is a >= range', () => {
    expect(versionAtLeast('6.7.0', '6.7')).toBe(true);
    expect(versionAtLeast('6.6.14', '6.7')).toBe(false);
  });

  it('names what is wrong with a range', () => {
    expect(rangeError('>=6.17')).toBeNull();
    expect(rangeError(' >=6.7  <6.16 ')).toBeNull();
    expect(rangeError('')).toMatch(/expected a version range/);
    expect(rangeError('>=6.x')).toMatch(/">=6.x" is not a comparator/);
    expect(rangeError('6.17+')).toMatch(/"6.17\+" is not a comparator/);
  });
});

const base = {
  id: 'x',
  title: 't',
  source: 's',
  arena: { pages: 32 },
};

describe('runner: an expectation outside its range is not checked, and says so', () => {
  const sc: Scenario = validateScenario({
    ...base,
    steps: [
      { op: 'map', name: 'a', at: '@2', len: 2 },
      {
        op: 'mremap',
        at: 'a',
        oldLen: 2,
        newLen: '-4096b',
        flags: ['MAYMOVE'],
        expect: [
          { kernels: '>=6.17', errno: 'EINVAL' },
          { kernels: '<6.17', errno: 'ENOMEM' },
        ],
      },
    ],
  });
  const start = 0x100000000000n;
  const end = start + 32n * 4096n;
  const run = (kernel: string, model: string, versions: { kernel: string; model: string }) =>
    new ScenarioRunner(
      sc,
      modelSide(new ModelSpace({ profile: kernel, window: { start, end } }), undefined, 'kernel'),
      modelSide(new ModelSpace({ profile: model, window: { start, end } })),
      { arenaStart: start, arenaEnd: end, versions },
    ).run();

  it('checks each side against its own version', () => {
    const o = run('linux-6.12', 'linux-6.12', { kernel: '6.12.57', model: '6.12' });
    expect(o.divergence).toBeUndefined();
    expect(o.expectationFailures).toEqual([]);
    expect(o.unchecked).toEqual([
      'step 1: expectation for kernels >=6.17 not checked on the kernel (6.12.57)',
      'step 1: expectation for kernels >=6.17 not checked on the model (6.12)',
    ]);
  });

  it('a version-specific expectation fails where its range holds and the outcome differs', () => {
    // A 6.12 kernel claimed to be 6.18: the >=6.17 expectation is checked and fails.
    const o = run('linux-6.12', 'linux-6.12', { kernel: '6.18.44', model: '6.12' });
    expect(o.expectationFailures).toEqual([
      { step: 1, side: 'kernel', message: 'expected EINVAL, got -1 ENOMEM' },
    ]);
  });
});
