/**
 * The step codec (src/scenario/steps/) and the runner's hooks, on the model alone: what a
 * step decodes to, the C it becomes, and the order and content of the events the fuzz
 * harness (and validate --trace) build on.
 */
import { describe, expect, it } from 'vitest';
import { ModelSpace } from '../../src/model/address-space.js';
import { MAP, MREMAP, PROT } from '../../src/space/constants.js';
import { addGuards, modelSide } from '../../src/scenario/model-side.js';
import { ScenarioRunner, type RunnerHooks } from '../../src/scenario/runner.js';
import { decodeStep, kernelPlaces } from '../../src/scenario/steps/decode.js';
import { cAddr, stepC } from '../../src/scenario/steps/to-c.js';
import type { Scenario } from '../../src/scenario/types.js';

describe('decodeStep', () => {
  it('gives a map its MAP_* bits, byte length and the name it binds', () => {
    const c = decodeStep(
      { op: 'map', at: '@2', len: 3, prot: 'r', kind: 'shared', name: 'a' },
      0,
      '$.steps[0]',
    );
    expect(c).toEqual({
      op: 'map',
      at: '@2',
      length: 3n * 4096n,
      prot: PROT.READ,
      flags: MAP.SHARED | MAP.ANONYMOUS | MAP.FIXED,
      kind: 'shared',
      offset: 0n,
      bind: 'a',
    });
    expect(kernelPlaces(c)).toBe(false);
  });

  it('rebinds the name an mremap moves, and only a bare name', () => {
    const bare = decodeStep(
      { op: 'mremap', at: 'a', oldLen: 1, newLen: 2, flags: 'MAYMOVE' },
      3,
      '$',
    );
    expect(bare).toMatchObject({ bind: 'a', flags: MREMAP.MAYMOVE, newLen: 8192n });
    expect(kernelPlaces(bare)).toBe(true);
    const offset = decodeStep({ op: 'mremap', at: 'a+1', oldLen: 1, newLen: 1 }, 3, '$');
    expect(offset).not.toHaveProperty('bind');
  });

  it("gives a touch the step's unique default tag and wraps a negative byte length", () => {
    expect(decodeStep({ op: 'touch', at: '@0', pages: 2 }, 4, '$')).toEqual({
      op: 'touch',
      at: '@0',
      pages: 2,
      tag: 0x5000n,
    });
    expect(decodeStep({ op: 'munmap', at: '@0', len: '-1b' }, 0, '$')).toMatchObject({
      length: (1n << 64n) - 1n,
    });
  });

  it('refuses a memfd mapping without a file, naming the field', () => {
    expect(() =>
      decodeStep({ op: 'map', at: '@0', len: 1, kind: 'memfd' }, 2, '$.steps[2]'),
    ).toThrow(expect.objectContaining({ path: '$.steps[2].file' }));
  });
});

describe('the C of a step', () => {
  it('writes addresses relative to the arena or to a name, with byte terms', () => {
    expect(cAddr('@3')).toBe('(A + 0x3000UL)');
    expect(cAddr('@0')).toBe('A');
    expect(cAddr('src+2-1b')).toBe('(n_src + 0x1fffUL)');
    expect(cAddr('src-1')).toBe('(n_src - 0x1000UL)');
    expect(cAddr('=0x7ffffffff000')).toBe('0x7ffffffff000UL');
  });

  it('makes the same mremap call and binds the result to the moved name', () => {
    const call = decodeStep(
      { op: 'mremap', at: 'a', oldLen: 4, newLen: 4, flags: ['MAYMOVE', 'FIXED'], to: '@8' },
      1,
      '$',
    );
    expect(stepC(call, 1, 'mv', 'WANT_ANY, 0, 0')).toEqual([
      '  r = syscall(SYS_mremap, n_a, 0x4000UL, 0x4000UL, 0x3UL, (A + 0x8000UL));',
      '  if (r != -1) n_a = (unsigned long)r;',
      '  check(1, "mv", r, WANT_ANY, 0, 0);',
    ]);
  });
});

describe('runner hooks', () => {
  const start = 0x100000000000n;
  const end = start + 32n * 4096n;
  const sc: Scenario = {
    id: 'hooks',
    title: 't',
    source: 's',
    arena: { pages: 32 },
    steps: [
      { op: 'map', at: '@0', len: 4, name: 'a' },
      { op: 'touch', at: 'a' },
      { op: 'mremap', at: 'a', oldLen: 4, newLen: 4, flags: ['MAYMOVE', 'FIXED'], to: '@8' },
    ],
  };
  const model = () => {
    const m = new ModelSpace({ profile: 'linux-6.18', window: { start, end } });
    addGuards(m, start, end);
    return m;
  };
  const run = (hooks: RunnerHooks[]) =>
    new ScenarioRunner(sc, modelSide(model(), undefined, 'kernel'), modelSide(model()), {
      arenaStart: start,
      arenaEnd: end,
      hooks,
    }).run();

  it('reports every step per side, in order, with the step index and outcome', () => {
    const seen: string[] = [];
    let remap: unknown;
    const o = run([
      {
        beforeStep: (e) => seen.push(`before ${e.index} ${e.side}`),
        snapshot: (e) => {
          seen.push(`snapshot ${e.index} ${e.side} ${e.window ? 'window' : 'outside'}`);
          return undefined;
        },
        afterStep: (e) => {
          seen.push(`after ${e.index} ${e.side} ${e.snapshot.vmas.length}`);
          if (e.index === 2 && e.side === 'kernel') remap = e.outcome.remap;
        },
      },
    ]);
    expect(o.divergence).toBeUndefined();
    const step = (i: number, vmas: number) => [
      `before ${i} kernel`,
      `before ${i} model`,
      `snapshot ${i} kernel window`,
      `after ${i} kernel ${vmas}`,
      `snapshot ${i} model window`,
      `after ${i} model ${vmas}`,
    ];
    // The guards lie just outside [start, end): the window holds the one mapping.
    expect(seen).toEqual([...step(0, 1), ...step(1, 1), ...step(2, 1)]);
    expect(remap).toEqual({
      addr: start,
      oldLen: 4n * 4096n,
      newLen: 4n * 4096n,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: start + 8n * 4096n,
    });
  });

  it("compares what a snapshot hook returns, and a hook's throw ends the run", () => {
    const o = run([
      {
        snapshot: (e) =>
          e.side === 'model' && e.index === 1 ? { ...e.snapshot, vmas: [] } : undefined,
      },
    ]);
    expect(o.divergence?.step).toBe(1);
    expect(o.divergence?.call).toBe('touch(a)');
    const stop = new Error('stop');
    expect(() =>
      run([
        {
          afterStep: (e) => {
            if (e.index === 2) throw stop;
          },
        },
      ]),
    ).toThrow(stop);
  });
});
