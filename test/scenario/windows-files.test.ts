/**
 * The scenario format's expectation windows, memfd contents and disk files: what loads,
 * what is refused (with the JSON path), and that an expectation window really restricts
 * `vmas`/`vmaCount` — a wrong layout in either of two windows fails on both sides.
 */
import { describe, expect, it } from 'vitest';
import { ModelSpace } from '../../src/model/address-space.js';
import { PROFILES } from '../../src/model/profiles.js';
import { modelSide } from '../../src/scenario/model-side.js';
import { profileSkip } from '../../src/scenario/profile-gates.js';
import { ScenarioRunner } from '../../src/scenario/runner.js';
import { validateScenario } from '../../src/scenario/schema.js';
import { decodeStep } from '../../src/scenario/steps/decode.js';
import { mapStepFlags } from '../../src/scenario/steps/fields.js';
import { MAP } from '../../src/space/constants.js';
import type { MapStep, Step } from '../../src/scenario/types.js';

const base = { id: 'x', title: 't', source: 's', arena: { pages: 64 } };
const disk = { requires: { features: ['diskFile'] } };
const start = 0x100000000000n;
const end = start + 64n * 4096n;

function refused(sc: object): string {
  try {
    validateScenario(sc);
  } catch (e) {
    const x = e as { message: string; path?: string };
    return `${x.path ?? ''}: ${x.message}`;
  }
  return 'loaded';
}

function run(steps: Step[]) {
  const sc = validateScenario({ ...base, steps });
  return new ScenarioRunner(
    sc,
    modelSide(new ModelSpace({ window: { start, end } }), undefined, 'kernel'),
    modelSide(new ModelSpace({ window: { start, end } })),
    { arenaStart: start, arenaEnd: end },
  ).run();
}

const twoAreas: Step[] = [
  { op: 'map', name: 'a', at: '@0', len: 8 },
  { op: 'map', name: 'b', at: '@32', len: 2, prot: 'r' },
  { op: 'munmap', at: '@2', len: 2 },
];

describe('expect.window', () => {
  const exact = (w2: object[]): Step => ({
    op: 'check',
    expect: [
      {
        window: { from: '@0', to: '@16' },
        vmas: [
          { start: '@0', end: '@2' },
          { start: '@4', end: '@8' },
        ],
      },
      { window: { from: '@16', to: '@64' }, vmas: w2 as never, vmaCount: w2.length },
      { vmaCount: 3 },
    ],
  });

  it('asserts the exact layout of each of two areas', () => {
    const out = run([...twoAreas, exact([{ start: '@32', end: '@34', prot: 'r--p' }])]);
    expect(out.expectationFailures).toEqual([]);
    expect(out.divergence).toBeUndefined();
  });

  it('a wrong layout in the second window fails on both sides, naming the window', () => {
    const out = run([...twoAreas, exact([{ start: '@32', end: '@33' }])]);
    const msgs = out.expectationFailures.map((f) => `${f.side}: ${f.message}`);
    expect(msgs.some((m) => m.startsWith('kernel: expected VMAs') && m.includes('@16..@64'))).toBe(
      true,
    );
    expect(msgs.some((m) => m.startsWith('model: expected VMAs'))).toBe(true);
  });

  it('without a window, vmas speak of the whole comparison window as before', () => {
    const out = run([...twoAreas, { op: 'check', expect: { vmaCount: 2 } }]);
    expect(out.expectationFailures.map((f) => f.message)).toContain(
      'expected 2 VMAs in the window, got 3',
    );
  });

  it('a reversed or incomplete window is refused with its path', () => {
    const steps = (w: object) => [
      { op: 'check', expect: [{ ok: true }, { window: w, vmaCount: 0 }] },
    ];
    expect(refused({ ...base, steps: steps({ from: '@8', to: '@4' }) })).toMatch(
      /^\$\.steps\[0\]\.expect\[1\]\.window: .*empty or reversed/,
    );
    expect(refused({ ...base, steps: steps({ from: '@8' }) })).toMatch(
      /^\$\.steps\[0\]\.expect\[1\]\.window\.to: a window needs "to"/,
    );
  });
});

describe('memfd and file contents', () => {
  it('tags decode to page index → tag; an index past the file or not a number is refused', () => {
    const sc = validateScenario({
      ...base,
      steps: [{ op: 'memfd', name: 'f', pages: 4, tags: { '0': 5, '3': 8 } }],
    });
    const call = decodeStep(sc.steps[0]!, 0, '$.steps[0]');
    expect(call).toMatchObject({
      op: 'memfd',
      disk: false,
      contents: new Map([
        [0, 5n],
        [3, 8n],
      ]),
    });
    expect(
      refused({ ...base, steps: [{ op: 'memfd', name: 'f', pages: 4, tags: { '4': 1 } }] }),
    ).toMatch(/^\$\.steps\[0\]\.tags\["4"\]: expected a page index from 0 to 3/);
    expect(
      refused({ ...base, steps: [{ op: 'memfd', name: 'f', pages: 4, tags: { x: 1 } }] }),
    ).toMatch(/page index/);
    expect(
      refused({ ...base, steps: [{ op: 'memfd', name: 'f', pages: 4, tags: { '1': -1 } }] }),
    ).toMatch(/a whole number ≥ 0/);
  });

  it('a file step needs the diskFile gate; kinds must match the step that made the file', () => {
    const file = { op: 'file', name: 'f', pages: 4 };
    expect(refused({ ...base, steps: [file] })).toMatch(
      /^\$\.steps\[0\]\.op: a file step needs "requires"/,
    );
    expect(refused({ ...base, ...disk, steps: [file] })).toBe('loaded');
    const mapAs = (kind: string) => ({ op: 'map', at: '@0', len: 2, kind, file: 'f' });
    expect(refused({ ...base, ...disk, steps: [file, mapAs('memfd')] })).toMatch(
      /^\$\.steps\[1\]\.kind: "f" was made by a file step/,
    );
    expect(
      refused({ ...base, steps: [{ op: 'memfd', name: 'f', pages: 2 }, mapAs('file-private')] }),
    ).toMatch(/was made by a memfd step/);
    expect(
      refused({ ...base, ...disk, steps: [file, { op: 'map', at: '@0', len: 2, kind: 'file' }] }),
    ).toMatch(
      /^\$\.steps\[1\]\.file: a file mapping needs "file": the name of an earlier file step/,
    );
    expect(refused({ ...base, ...disk, steps: [{ op: 'fork-continue' }, file] })).toMatch(
      /cannot run inside the child/,
    );
  });

  it('file kinds map MAP_SHARED / MAP_PRIVATE without MAP_ANONYMOUS', () => {
    const m = (kind: MapStep['kind']) =>
      mapStepFlags({ op: 'map', at: '@0', len: 1, kind, file: 'f' });
    expect(m('file')).toBe(MAP.SHARED | MAP.FIXED);
    expect(m('file-private')).toBe(MAP.PRIVATE | MAP.FIXED);
  });

  it('diskFile is the machine’s, not the version’s: model-only runs it under every profile', () => {
    const sc = validateScenario({ ...base, ...disk, steps: [{ op: 'file', name: 'f', pages: 1 }] });
    for (const p of Object.values(PROFILES)) expect(profileSkip(sc, p, p)).toBeNull();
  });
});
