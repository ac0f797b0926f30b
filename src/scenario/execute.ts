/**
 * One scenario, start to finish: gate it on what the kernel has (SKIP with the reason),
 * reserve a fresh arena, build the kernel side and the model side with the same guards,
 * run, and turn the outcome into a result record. This is what a worker process runs.
 */
import { Arena } from '../kernel/arena.js';
import { KernelSpace } from '../kernel/kernel-space.js';
import { ownMapCount } from '../kernel/maps.js';
import { hugetlbAvailable, type ProbeResult } from '../kernel/probe.js';
import { diskFileDir } from '../kernel/disk-file.js';
import { ModelSpace } from '../model/address-space.js';
import type { Profile } from '../model/profiles.js';
import type { ModelTraits } from '../model/traits.js';
import { machineFromProbe, traitsFromProbe } from './model-config.js';
import type { AddressSpace, ChildId } from '../space/address-space.js';
import { guardedSpan } from '../space/arena-guards.js';
import { MAP, MREMAP, PAGE_SIZE, PROT } from '../space/constants.js';
import { parseAlign, ScenarioInputError } from './address.js';
import {
  ScenarioRunner,
  type Divergence,
  type ExpectationFailure,
  type RunOutcome,
  type Side,
} from './runner.js';
import type { Scenario } from './types.js';
import { addGuards, modelSide, placeFromHint } from './model-side.js';
import { versionAtLeast } from './kernel-range.js';
import { profileSkip } from './profile-gates.js';
import type { TracerStatus } from '../kernel/trace/discover.js';
import { processInstance } from '../kernel/trace/observer.js';
import { PlanTracer, type PlanCheck } from './plan-trace.js';
import { enterEnv, type ModelEnv, type RunEnv } from './run-env.js';
export { KNOWN_FEATURES } from './types.js';

export type Status = 'pass' | 'fail' | 'skip' | 'crash' | 'timeout' | 'error';

export interface ScenarioResult {
  id: string;
  title: string;
  source: string;
  status: Status;
  /** Why it was skipped, or what went wrong (error/crash/timeout). */
  reason?: string;
  profile: string;
  steps: number;
  durationMs: number;
  divergence?: Divergence;
  expectationFailures?: ExpectationFailure[];
  /** Expectations outside their `kernels` range, with the version that put them out. */
  unchecked?: string[];
  kernelLayout?: string;
  modelLayout?: string;
  /** validate --trace: each mremap step's traced plan against the model's. */
  planChecks?: PlanCheck[];
  /**
   * validate --profiles: the verdict of every profile named, from the same kernel run
   * (execute-matrix.ts); this result itself is the chosen profile's.
   */
  profiles?: Record<string, ProfileVerdict>;
}

/** One profile's verdict on a scenario, without the layouts (the chosen profile has them). */
export type ProfileVerdict = Pick<
  ScenarioResult,
  'status' | 'reason' | 'steps' | 'expectationFailures' | 'unchecked'
> & { divergence?: Omit<Divergence, 'kernelLayout' | 'modelLayout' | 'explain'> };

export interface ExecContext {
  probe: ProbeResult;
  profile: Profile;
  /** The traits the model is told; default: what the probe measured (traitsFromProbe). */
  traits?: ModelTraits;
  only?: 'kernel' | 'model';
  /**
   * validate --trace on a kernel that lets us observe move_page_tables() (status.problem
   * null); the probes exist for the whole run (the parent owns them).
   */
  trace?: TracerStatus;
}

/** The traits the model is told: the context's, else what the probe measured. */
export function modelTraits(ctx: ExecContext): ModelTraits {
  return ctx.traits ?? traitsFromProbe(ctx.probe);
}

function hasFeature(p: ProbeResult, f: string): boolean | undefined {
  switch (f) {
    case 'multiVmaMove':
      return p.multiVmaMove;
    case 'mseal':
      return p.mseal;
    case 'userfaultfd':
      return p.userfaultfd;
    case 'thp':
      return p.thp.enabled !== null && p.thp.enabled !== 'never';
    case 'relocateAnon':
      return p.relocateAnon.relocate && p.relocateAnon.mustRelocate;
    case 'pfns':
      return p.pagemapPfns;
    case 'procmapQuery':
      return p.procmapQuery;
    case 'pagemapScan':
      return p.pagemapScan;
    case 'hugetlb':
      return hugetlbAvailable() >= 4;
    case 'diskFile':
      return !('why' in diskFileDir());
    default:
      return undefined;
  }
}

/**
 * The SKIP reason, or null when the scenario can run. A scenario that needs RELOCATE_ANON
 * on a kernel that refuses it is only skipped after checking that the kernel and the
 * model both refuse bit 8 the same way (EINVAL on a stock kernel).
 */
export function skipReason(sc: Scenario, ctx: ExecContext): string | null {
  const r = sc.requires;
  if (!r) return null;
  // --model-only never calls the kernel: the model stands for a kernel of its profile's
  // version, so the gates are judged against that (the hugetlb pool is assumed reserved).
  if (ctx.only === 'model') return profileSkip(sc, ctx.profile, ctx.profile, true);
  if (r.minKernel && !versionAtLeast(ctx.probe.release, r.minKernel)) {
    return `needs Linux ${r.minKernel}+, running ${ctx.probe.release}`;
  }
  for (const f of r.features ?? []) {
    if (hasFeature(ctx.probe, f) === false) {
      if (f === 'relocateAnon') return relocateAnonRefusal(ctx);
      if (f === 'hugetlb') {
        return `needs at least 4 free 2 MiB huge pages (${hugetlbAvailable()} available); as root: echo 8 > /proc/sys/vm/nr_hugepages`;
      }
      if (f === 'diskFile') return (diskFileDir() as { why: string }).why;
      return `kernel lacks ${f} (probe)`;
    }
  }
  if (r.profiles && !r.profiles.includes(ctx.profile.name)) {
    return `runs only under profile ${r.profiles.join(' or ')} (chosen: ${ctx.profile.name})`;
  }
  return null;
}

function relocateAnonRefusal(ctx: ExecContext): string {
  const arena = Arena.reserve({ size: 4n * PAGE_SIZE, interior: 'empty' });
  const k = new KernelSpace(arena);
  const m = new ModelSpace({
    profile: ctx.profile,
    window: { start: arena.start, end: arena.end },
  });
  try {
    const map = {
      addr: arena.start,
      length: PAGE_SIZE,
      prot: PROT.READ | PROT.WRITE,
      flags: MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED,
    };
    k.map(map);
    m.map(map);
    const call = {
      addr: arena.start,
      oldLen: PAGE_SIZE,
      newLen: PAGE_SIZE,
      flags: MREMAP.MAYMOVE | MREMAP.RELOCATE_ANON,
      newAddr: 0n,
    };
    const kr = k.remap(call);
    const mr = m.remap(call);
    const show = (x: typeof kr) => (x.ok ? 'ok' : x.code);
    if (show(kr) !== show(mr)) {
      return `kernel lacks RELOCATE_ANON, but refused bit 8 with ${show(kr)} where profile ${ctx.profile.name} predicts ${show(mr)}`;
    }
    return `kernel refuses MREMAP_RELOCATE_ANON (bit 8 → ${show(kr)}, as profile ${ctx.profile.name} predicts); needs a kernel with the RFC series`;
  } finally {
    k.dispose();
    arena.release();
  }
}

export function kernelSide(space: KernelSpace): Side {
  return {
    name: 'kernel',
    space,
    childSpace: (parent: AddressSpace, child: ChildId) => (parent as KernelSpace).forkSpace(child),
  };
}

/** The process's VMAs outside the arena and its guards (what mm->map_count adds). */
export function otherVmas(start: bigint, end: bigint): number {
  const [gs, ge] = guardedSpan(start, end);
  return ownMapCount({ start: gs, end: ge });
}

export function newModel(
  ctx: ExecContext,
  start: bigint,
  end: bigint,
  hint: { next: bigint | null },
  /** Read when the kernel side started (for a replayed kernel run: its values, not now's). */
  env?: ModelEnv & { otherMapCount?: number; hugetlbPages?: number },
): ModelSpace {
  const p = env?.probe ?? ctx.probe;
  const m = new ModelSpace({
    profile: ctx.profile,
    window: { start, end },
    placeUnfixed: placeFromHint(hint),
    ...machineFromProbe(p),
    // The kernel counts Node's own VMAs against max_map_count too; the model holds the
    // arena and its guards. Counted when the scenario starts: Node's count drifts a little,
    // and the arena's placeholders still mapped during a call are not counted.
    otherMapCount: env?.otherMapCount ?? (ctx.only === 'model' ? 0 : otherVmas(start, end)),
    traits: modelTraits(ctx),
    // The pool is system-wide and changes: read it when the scenario starts, not at probe time.
    hugetlbPages: env?.hugetlbPages ?? (ctx.only === 'model' ? 8 : hugetlbAvailable()),
    ...(env?.rlimitMemlock !== undefined ? { rlimitMemlock: env.rlimitMemlock } : {}),
    ...(env
      ? {
          pfnsVisible: env.pfnsVisible,
          capSysPtrace: env.capSysPtrace,
          unprivilegedUserfaultfd: env.unprivilegedUserfaultfd,
        }
      : {}),
  });
  addGuards(m, start, end);
  return m;
}

type ResultBase = Pick<ScenarioResult, 'id' | 'title' | 'source' | 'profile'>;

/** A finished run as a result record. */
export function outcomeResult(base: ResultBase, out: RunOutcome, t0: number): ScenarioResult {
  const failed = out.divergence !== undefined || out.expectationFailures.length > 0;
  const res: ScenarioResult = {
    ...base,
    status: failed ? 'fail' : 'pass',
    steps: out.steps,
    durationMs: performance.now() - t0,
  };
  if (out.divergence) res.divergence = out.divergence;
  if (out.expectationFailures.length) res.expectationFailures = out.expectationFailures;
  if (out.unchecked.length) res.unchecked = out.unchecked;
  if (out.kernelLayout) res.kernelLayout = out.kernelLayout;
  if (out.modelLayout) res.modelLayout = out.modelLayout;
  return res;
}

/** A run that threw: the scenario's error (an input error names its JSON path). */
export function errorResult(base: ResultBase, e: unknown, t0: number): ScenarioResult {
  const reason =
    e instanceof ScenarioInputError
      ? `${e.path}: ${e.message}`
      : e instanceof Error
        ? e.message
        : String(e);
  return { ...base, status: 'error', reason, steps: 0, durationMs: performance.now() - t0 };
}

export function executeScenario(sc: Scenario, ctx: ExecContext): ScenarioResult {
  const t0 = performance.now();
  const base = { id: sc.id, title: sc.title, source: sc.source, profile: ctx.profile.name };
  const skip = skipReason(sc, ctx);
  if (skip !== null)
    return { ...base, status: 'skip', reason: skip, steps: 0, durationMs: performance.now() - t0 };
  const size = BigInt(sc.arena.pages) * PAGE_SIZE;
  let arena: Arena | undefined;
  let kernel: KernelSpace | undefined;
  let env: RunEnv | undefined;
  const hint = { next: null as bigint | null };
  try {
    // Inside the try: an arena that cannot be had is this scenario's error, not a dead worker.
    arena = Arena.reserve({
      size,
      align: parseAlign(sc.arena.align, '$.arena.align'),
      interior: 'empty',
    });
    kernel = new KernelSpace(arena);
    // Counted once, for the settings and the model alike: Node's own count drifts.
    const other = ctx.only === 'model' ? 0 : otherVmas(arena.start, arena.end);
    const entered = enterEnv(sc, ctx.probe, ctx.only, other);
    if ('skip' in entered)
      return {
        ...base,
        status: 'skip',
        reason: entered.skip,
        steps: 0,
        durationMs: performance.now() - t0,
      };
    env = entered;
    const model = newModel(ctx, arena.start, arena.end, hint, { ...env, otherMapCount: other });
    const traced = ctx.trace && !ctx.only ? ctx.trace : undefined;
    const tracer = traced ? new PlanTracer(traced, processInstance(traced)) : undefined;
    const kside = tracer ? tracer.wrap(kernelSide(kernel)) : kernelSide(kernel);
    const runner = new ScenarioRunner(sc, kside, modelSide(model, hint), {
      arenaStart: arena.start,
      arenaEnd: arena.end,
      vmflagsPrinted: modelTraits(ctx).vmflagMnemonics,
      versions: { kernel: ctx.probe.release, model: ctx.profile.version },
      ...(ctx.only ? { only: ctx.only } : {}),
      ...(tracer ? { stepDiffs: tracer.stepDiffs } : {}),
    });
    const out = runner.run();
    // Global settings go back as soon as the steps are done, before any reporting.
    env.restore();
    const res = outcomeResult(base, out, t0);
    if (tracer) res.planChecks = tracer.checks;
    return res;
  } catch (e) {
    return errorResult(base, e, t0);
  } finally {
    env?.restore();
    kernel?.dispose();
    arena?.release();
  }
}
