/**
 * The record a kernel run leaves for validate --profiles, replayed: the same calls get the
 * same answers (copies: the runner may change what it is given), anything else is loud.
 * A model stands in for the kernel: the record does not care which space it wraps.
 */
import { describe, expect, it } from 'vitest';
import { ModelSpace } from '../../src/model/address-space.js';
import { getProfile } from '../../src/model/profiles.js';
import { MAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';
import { KernelRecord } from '../../src/scenario/kernel-record.js';
import { modelSide } from '../../src/scenario/model-side.js';
import { ScenarioRunner } from '../../src/scenario/runner.js';
import { loadScenarios } from '../../src/scenario/suite.js';

const START = 0x7f0000000000n;
const END = START + 16n * PAGE_SIZE;

function model(profile = 'linux-6.18') {
  return new ModelSpace({ profile: getProfile(profile), window: { start: START, end: END } });
}

const anon = { prot: PROT.READ | PROT.WRITE, flags: MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED };

describe('kernel record and replay', () => {
  it('answers the recorded calls in order, children included, with copies', () => {
    const rec = new KernelRecord();
    const side = rec.recording(modelSide(model(), undefined, 'kernel'));
    expect(side.space.map({ addr: START, length: 4n * PAGE_SIZE, ...anon })).toEqual({
      ok: true,
      value: START,
    });
    side.space.touch(START, 7n);
    const fork = side.space.fork();
    expect(fork.ok).toBe(true);
    const child = side.childSpace(side.space, fork.ok ? fork.value : 0);
    child.unmap(START, PAGE_SIZE);
    const snap = side.space.snapshot(START, END);

    const replay = rec.replay();
    expect(replay.space.map({ addr: START, length: 4n * PAGE_SIZE, ...anon }).ok).toBe(true);
    expect(replay.space.touch(START, 7n)).toEqual({ ok: true, value: 0 });
    const rf = replay.space.fork();
    const rchild = replay.childSpace(replay.space, rf.ok ? rf.value : 0);
    expect(rchild.unmap(START, PAGE_SIZE)).toEqual({ ok: true, value: 0 });
    const again = replay.space.snapshot(START, END);
    expect(again).toEqual(snap);
    again.vmas.length = 0;
    expect(snap.vmas.length).toBeGreaterThan(0);
  });

  it('refuses a call that was not recorded there, and rethrows what ended the run', () => {
    const rec = new KernelRecord();
    const side = rec.recording(modelSide(model(), undefined, 'kernel'));
    side.space.unmap(START, PAGE_SIZE);
    rec.error = new Error('native: arena gone');
    const replay = rec.replay();
    expect(() => replay.space.unmap(START, 2n * PAGE_SIZE)).toThrow(/out of step at call 0/);
    const r2 = rec.replay();
    r2.space.unmap(START, PAGE_SIZE);
    expect(() => r2.space.touch(START, 1n)).toThrow('native: arena gone');
  });

  it('gives a runner against the replay the verdict of the live run', () => {
    // A built-in scenario that tells linux-6.1 from linux-6.18 (docs/profile-matrix.md).
    const { scenarios } = loadScenarios(['builtin']);
    const sc = scenarios.find((s) => s.scenario.id === 'dontunmap-multi-vma-fixed')!.scenario;
    const start = START;
    const end = START + BigInt(sc.arena.pages) * PAGE_SIZE;
    const mk = (p: string) => new ModelSpace({ profile: getProfile(p), window: { start, end } });
    const opts = { arenaStart: start, arenaEnd: end };
    // The "kernel" is linux-6.1's model, the model linux-6.18's: live and replayed agree.
    const rec = new KernelRecord();
    const kside = rec.recording(modelSide(mk('linux-6.1'), undefined, 'kernel'));
    new ScenarioRunner(sc, kside, kside, { ...opts, only: 'kernel' }).run();
    const live = new ScenarioRunner(
      sc,
      modelSide(mk('linux-6.1'), undefined, 'kernel'),
      modelSide(mk('linux-6.18')),
      opts,
    ).run();
    const replayed = new ScenarioRunner(sc, rec.replay(), modelSide(mk('linux-6.18')), opts).run();
    expect(live.divergence).toBeDefined();
    expect(replayed).toEqual(live);
  });
});
