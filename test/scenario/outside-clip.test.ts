/**
 * Memory a call placed outside the arena is compared only over the range the call placed:
 * the kernel may put a hinted or moved mapping next to one of the process's own mappings
 * (V8's heap, a library) and merge with it, which is none of the model's business. Both
 * sides are models here so the "process's own" neighbour can be placed exactly.
 */
import { describe, expect, it } from 'vitest';
import { ModelSpace } from '../../src/model/address-space.js';
import { modelSide } from '../../src/scenario/model-side.js';
import { ScenarioRunner } from '../../src/scenario/runner.js';
import { validateScenario } from '../../src/scenario/schema.js';
import { MAP, PROT } from '../../src/space/constants.js';

const start = 0x100000000000n;
const end = start + 32n * 4096n;
const hint = start + 0x40000000n;

function run(neighbour: boolean) {
  const sc = validateScenario({
    id: 'x',
    title: 't',
    source: 's',
    arena: { pages: 32 },
    steps: [
      {
        op: 'map',
        name: 'h',
        at: `=0x${hint.toString(16)}`,
        len: 2,
        placement: 'hint',
        expect: { ret: `=0x${hint.toString(16)}` },
      },
      { op: 'touch', at: 'h', pages: 2 },
    ],
  });
  const kernel = new ModelSpace({ window: { start, end } });
  if (neighbour) {
    // The process's own mapping right below the hint: the hinted mapping merges with it.
    const r = kernel.map({
      addr: hint - 0x2000n,
      length: 0x2000n,
      prot: PROT.READ | PROT.WRITE,
      flags: MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED,
    });
    expect(r.ok).toBe(true);
  }
  return new ScenarioRunner(
    sc,
    modelSide(kernel, undefined, 'kernel'),
    modelSide(new ModelSpace({ window: { start, end } })),
    { arenaStart: start, arenaEnd: end },
  ).run();
}

describe('runner: ranges placed outside the arena are clipped to what the call placed', () => {
  it('a merge with a neighbour outside the arena is not a divergence', () => {
    const o = run(true);
    expect(o.divergence).toBeUndefined();
    expect(o.expectationFailures).toEqual([]);
    expect(o.steps).toBe(2);
  });

  it('the placed range itself is still compared', () => {
    const o = run(false);
    expect(o.divergence).toBeUndefined();
    expect(o.kernelLayout).toContain('rw-p');
  });
});
