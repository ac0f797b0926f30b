/**
 * The fuzz harness's hooks on a run of two models, one standing in for the kernel: an
 * invariant the "kernel" breaks is reported at the step that broke it (the index the
 * runner gives, not a count of snapshots), and the model's record stops where the run did.
 * A snapshot hook placed before the harness's plays the misbehaving kernel.
 */
import { describe, expect, it } from 'vitest';
import { ModelSpace } from '../../src/model/address-space.js';
import type { Snapshot } from '../../src/space/address-space.js';
import {
  fuzzHooks,
  InvariantViolation,
  type ModelStepRecord,
} from '../../src/scenario/fuzz/harness.js';
import { addGuards, modelSide } from '../../src/scenario/model-side.js';
import { ScenarioRunner, type RunnerHooks } from '../../src/scenario/runner.js';
import type { Scenario } from '../../src/scenario/types.js';

const PAGE = 4096n;
const start = 0x100000000000n;
const end = start + 32n * PAGE;
const sc: Scenario = {
  id: 'harness-hooks',
  title: 't',
  source: 's',
  arena: { pages: 32 },
  steps: [
    { op: 'map', at: '@0', len: 4, name: 'a' },
    { op: 'map', at: '@16', len: 1, name: 'b' },
    { op: 'touch', at: 'b', tag: 0x100 },
    { op: 'touch', at: 'a', pages: 4, tag: 0x200 },
    { op: 'mremap', at: 'a', oldLen: 4, newLen: 4, flags: ['MAYMOVE', 'FIXED'], to: '@8' },
    { op: 'check' },
  ],
};

/** A "kernel" whose window after step `index` holds `tag` at page `page` of the arena. */
function retag(index: number, page: bigint, tag: bigint): RunnerHooks {
  return {
    snapshot: (e) => {
      if (e.side !== 'kernel' || e.index !== index || !e.window) return undefined;
      const addr = start + page * PAGE;
      const pages = e.snapshot.pages.map((p) => (p.addr === addr ? { ...p, tag } : p));
      return { ...e.snapshot, pages } satisfies Snapshot;
    },
  };
}

function run(bad: RunnerHooks[]) {
  const model = () => {
    const m = new ModelSpace({ profile: 'linux-6.18', window: { start, end } });
    addGuards(m, start, end);
    return m;
  };
  const records: ModelStepRecord[] = [];
  const runner = new ScenarioRunner(
    sc,
    modelSide(model(), undefined, 'kernel'),
    modelSide(model()),
    {
      arenaStart: start,
      arenaEnd: end,
      hooks: [...bad, fuzzHooks(start, end, records)],
    },
  );
  try {
    return { outcome: runner.run(), records };
  } catch (e) {
    if (!(e instanceof InvariantViolation)) throw e;
    return { violation: e, records };
  }
}

describe('fuzz harness hooks', () => {
  it('record one model result and window per step when nothing is wrong', () => {
    const r = run([]);
    expect(r.violation).toBeUndefined();
    expect(r.outcome?.divergence).toBeUndefined();
    expect(r.records).toHaveLength(sc.steps.length);
    expect(r.records[4]!.result).toEqual({ ok: true, value: start + 8n * PAGE });
    expect(r.records[4]!.snapshot.pages.find((p) => p.addr === start + 8n * PAGE)?.tag).toBe(
      0x200n,
    );
  });

  it('name the mremap step when a page outside the moved ranges changed', () => {
    const r = run([retag(4, 16n, 0xdeadn)]);
    expect(r.violation?.step).toBe(4);
    expect(r.violation?.details.join('\n')).toContain(
      'outside the moved ranges the kernel changed: @16',
    );
    // The kernel's snapshot comes first: the model's record of step 4 was never taken.
    expect(r.records).toHaveLength(4);
  });

  it('name the mremap step when the moved data is not at the destination', () => {
    const r = run([retag(4, 9n, 0xdeadn)]);
    expect(r.violation?.step).toBe(4);
    expect(r.violation?.details.join('\n')).toContain('data not found at the destination');
  });

  it('check no page outside a step that is not an mremap', () => {
    // A check step makes no call: a changed page then is no mremap's doing and not an
    // invariant (the comparison with the model catches it as a divergence instead).
    const r = run([retag(5, 16n, 0xdeadn)]);
    expect(r.violation).toBeUndefined();
    expect(r.outcome?.divergence?.step).toBe(5);
  });
});
