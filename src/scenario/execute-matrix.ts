/**
 * validate --profiles: one scenario judged under several model profiles from a single
 * kernel run. The kernel side runs once, recorded (kernel-record.ts); each profile's model
 * then runs against the replay with everything the live run would give it: the same
 * arena, the map count and hugetlb pool read when the kernel side started, the kernel's
 * placements. So the chosen profile's verdict is the one `validate --profile P` gives,
 * and every other profile's is what `validate --profile Q` would give on that kernel,
 * without running the kernel again (docs/scenarios.md, "Telling versions apart").
 */
import { Arena } from '../kernel/arena.js';
import { hugetlbAvailable } from '../kernel/probe.js';
import { KernelSpace } from '../kernel/kernel-space.js';
import type { Profile } from '../model/profiles.js';
import { PAGE_SIZE } from '../space/constants.js';
import { parseAlign } from './address.js';
import {
  errorResult,
  kernelSide,
  modelTraits,
  newModel,
  otherVmas,
  outcomeResult,
  skipReason,
  type ExecContext,
  type ProfileVerdict,
  type ScenarioResult,
} from './execute.js';
import { KernelRecord } from './kernel-record.js';
import { enterEnv, type ModelEnv, type RunEnv } from './run-env.js';
import { modelSide } from './model-side.js';
import { ScenarioRunner } from './runner.js';
import { expectations } from './steps/decode.js';
import type { Scenario } from './types.js';

interface KernelRun {
  record: KernelRecord;
  start: bigint;
  end: bigint;
  /** The scenario's environment as the kernel run saw it (run-env.ts), for every model. */
  taken: ModelEnv & { otherMapCount: number; hugetlbPages: number };
}

/**
 * The kernel side alone, recorded. It runs every step a profile could need: only a
 * kernel-side expectation failure ends it early, and that ends every profile's run there.
 */
function recordKernel(sc: Scenario, ctx: ExecContext): KernelRun | { skip: string } {
  const arena = Arena.reserve({
    size: BigInt(sc.arena.pages) * PAGE_SIZE,
    align: parseAlign(sc.arena.align, '$.arena.align'),
    interior: 'empty',
  });
  const kernel = new KernelSpace(arena);
  let env: RunEnv | undefined;
  try {
    // Counted once, for the settings and the models alike: Node's own count drifts.
    const other = otherVmas(arena.start, arena.end);
    const entered = enterEnv(sc, ctx.probe, undefined, other);
    if ('skip' in entered) return { skip: entered.skip };
    env = entered;
    const { restore: _restore, ...seen } = entered;
    // After the sysctls are set: the pool is what this run has.
    const taken = { ...seen, otherMapCount: other, hugetlbPages: hugetlbAvailable() };
    const record = new KernelRecord();
    const side = record.recording(kernelSide(kernel));
    try {
      new ScenarioRunner(sc, side, side, {
        arenaStart: arena.start,
        arenaEnd: arena.end,
        only: 'kernel',
        vmflagsPrinted: modelTraits(ctx).vmflagMnemonics,
        versions: { kernel: ctx.probe.release },
      }).run();
    } catch (e) {
      // The same error reaches each profile's run when it gets this far (or sooner).
      record.error = e;
    }
    // Global settings go back as soon as the steps are done.
    env.restore();
    return { record, start: arena.start, end: arena.end, taken };
  } finally {
    env?.restore();
    kernel.dispose();
    arena.release();
  }
}

function replay(sc: Scenario, ctx: ExecContext, run: KernelRun): ScenarioResult {
  const t0 = performance.now();
  const base = { id: sc.id, title: sc.title, source: sc.source, profile: ctx.profile.name };
  try {
    const hint = { next: null as bigint | null };
    const model = newModel(ctx, run.start, run.end, hint, run.taken);
    const runner = new ScenarioRunner(sc, run.record.replay(), modelSide(model, hint), {
      arenaStart: run.start,
      arenaEnd: run.end,
      vmflagsPrinted: modelTraits(ctx).vmflagMnemonics,
      versions: { kernel: ctx.probe.release, model: ctx.profile.version },
    });
    return outcomeResult(base, runner.run(), t0);
  } catch (e) {
    return errorResult(base, e, t0);
  }
}

/**
 * What a profile's verdict on `sc` depends on: its rules, and its name or version only
 * where the scenario asks for them (requires.profiles, an expectation's `kernels` range).
 * Two profiles with the same key get the same verdict: one replay serves both (linux-6.1
 * and linux-6.6 have the same rules).
 */
function verdictKey(sc: Scenario, p: Profile): string {
  const { name, version, description: _d, ...rules } = p;
  const ranged = sc.steps.some((s) => expectations(s).some((e) => e.kernels !== undefined));
  return JSON.stringify([rules, sc.requires?.profiles ? name : '', ranged ? version : '']);
}

function verdict(r: ScenarioResult): ProfileVerdict {
  const v: ProfileVerdict = { status: r.status, steps: r.steps };
  if (r.reason !== undefined) v.reason = r.reason;
  if (r.divergence) {
    const { kernelLayout: _k, modelLayout: _m, explain: _e, ...d } = r.divergence;
    v.divergence = d;
  }
  if (r.expectationFailures) v.expectationFailures = r.expectationFailures;
  if (r.unchecked) v.unchecked = r.unchecked;
  return v;
}

/**
 * The scenario under `ctx.profile` (the result returned) and under each of `profiles`
 * (its `profiles` field, the chosen one included), from one kernel run.
 */
export function executeMatrix(
  sc: Scenario,
  ctx: ExecContext,
  profiles: readonly Profile[],
): ScenarioResult {
  const t0 = performance.now();
  const all = profiles.some((p) => p.name === ctx.profile.name)
    ? profiles
    : [ctx.profile, ...profiles];
  const base = { id: sc.id, title: sc.title, source: sc.source };
  const skips = new Map(all.map((p) => [p.name, skipReason(sc, { ...ctx, profile: p })]));
  let run: KernelRun | { skip: string } | undefined;
  const results = new Map<string, ScenarioResult>();
  const byKey = new Map<string, ScenarioResult>();
  for (const p of all) {
    const skip = skips.get(p.name)!;
    if (skip !== null) {
      results.set(p.name, {
        ...base,
        profile: p.name,
        status: 'skip',
        reason: skip,
        steps: 0,
        durationMs: 0,
      });
      continue;
    }
    try {
      run ??= recordKernel(sc, ctx);
    } catch (e) {
      // No arena: every profile that would run has this error.
      results.set(p.name, errorResult({ ...base, profile: p.name }, e, t0));
      continue;
    }
    if ('skip' in run) {
      // The scenario's environment cannot be had here (run-env.ts): no profile runs it.
      results.set(p.name, {
        ...base,
        profile: p.name,
        status: 'skip',
        reason: run.skip,
        steps: 0,
        durationMs: 0,
      });
      continue;
    }
    const key = verdictKey(sc, p);
    const same = byKey.get(key);
    const r = same ? { ...same, profile: p.name } : replay(sc, { ...ctx, profile: p }, run);
    byKey.set(key, r);
    results.set(p.name, r);
  }
  const main = { ...results.get(ctx.profile.name)!, durationMs: performance.now() - t0 };
  main.profiles = Object.fromEntries(profiles.map((p) => [p.name, verdict(results.get(p.name)!)]));
  return main;
}
