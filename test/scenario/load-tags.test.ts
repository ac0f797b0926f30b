/**
 * expect.tags load values and the growsdown fields: new, optional, and "fault" keeps its
 * meaning (the safe read got EFAULT, whichever signal a load would raise).
 */
import { describe, expect, it } from 'vitest';
import { ModelSpace } from '../../src/model/address-space.js';
import { modelSide } from '../../src/scenario/model-side.js';
import { ScenarioRunner } from '../../src/scenario/runner.js';
import { validateScenario } from '../../src/scenario/schema.js';
import type { Step } from '../../src/scenario/types.js';

const base = { id: 'x', title: 't', source: 's', arena: { pages: 16 } };
const start = 0x100000000000n;
const end = start + 16n * 4096n;

function failures(steps: unknown[]): string[] {
  const sc = validateScenario({ ...base, steps });
  return new ScenarioRunner(
    sc,
    modelSide(new ModelSpace({ window: { start, end } }), undefined, 'kernel'),
    modelSide(new ModelSpace({ window: { start, end } })),
    { arenaStart: start, arenaEnd: end },
  )
    .run()
    .expectationFailures.map((f) => `${f.side}: ${f.message}`);
}

const layout: Step[] = [
  { op: 'memfd', name: 'f', pages: 1 },
  { op: 'map', at: '@2', len: 2, kind: 'memfd', file: 'f' },
  { op: 'map', at: '@6', len: 1, prot: 'none' },
];

describe('expect.tags load values', () => {
  it('tell SIGBUS past EOF from SIGSEGV in a hole or on PROT_NONE; "fault" holds for all', () => {
    const tags = {
      '@2': 'nofault',
      '@3': 'bus_adrerr',
      '@5': 'segv_maperr',
      '@6': 'segv_accerr',
      '@6+8b': 'sigsegv',
      '@3+8b': 'sigbus',
    };
    expect(failures([...layout, { op: 'check', expect: { tags } }])).toEqual([]);
    const fault = { '@3': 'fault', '@5': 'fault', '@6': 'fault' };
    expect(failures([...layout, { op: 'check', expect: { tags: fault } }])).toEqual([]);
  });

  it('a wrong signal or code fails on both sides, naming what the load did', () => {
    const f = failures([
      ...layout,
      { op: 'check', expect: { tags: { '@3': 'sigsegv', '@6': 'segv_maperr' } } },
    ]);
    expect(f).toEqual([
      'kernel: expected a load of @3 to give sigsegv, got SIGBUS BUS_ADRERR',
      'kernel: expected a load of @6 to give segv_maperr, got SIGSEGV SEGV_ACCERR',
      'model: expected a load of @3 to give sigsegv, got SIGBUS BUS_ADRERR',
      'model: expected a load of @6 to give segv_maperr, got SIGSEGV SEGV_ACCERR',
    ]);
    expect(
      failures([...layout, { op: 'check', expect: { tags: { '@2': 'sigbus' } } }]),
    ).toHaveLength(2);
  });

  it('refuses an unknown value with the list of values, and a non-boolean growsdown', () => {
    expect(() =>
      validateScenario({ ...base, steps: [{ op: 'check', expect: { tags: { '@1': 'sigill' } } }] }),
    ).toThrow(/"zero", "fault" or one of "nofault", "sigsegv", "sigbus"/);
    let e: unknown;
    try {
      validateScenario({ ...base, steps: [{ op: 'map', at: '@1', len: 1, growsdown: 'yes' }] });
    } catch (x) {
      e = x;
    }
    expect(e).toMatchObject({ path: '$.steps[0].growsdown', message: 'expected true or false' });
  });
});
