/**
 * The fuzz loop: discovery, shrinking, confirmation.
 *
 * 1. Discovery: fast-check draws op sequences from the seed and runs each case in process
 *    (endOnFailure, so no time goes into shrinking yet). With --time the run is bounded by
 *    fast-check's own time limit, so a seed + replay path still names every case.
 * 2. Shrinking: the failing case is replayed from its path with shrinking on; fast-check
 *    drops ops and moves integers toward 0, and every candidate is realized and run again.
 *    Steps after the divergent one are cut, then single steps are removed while the same
 *    divergence stays (fast-check cannot drop steps the realizer adds, such as memfd).
 * 3. Confirmation: the minimal steps are re-run several times; a divergence that does not
 *    come back every time is reported as flaky.
 *
 * The loop yields to the event loop every few dozen milliseconds so that a SIGINT handler
 * can run: `signal` ends the search after the current case, ends shrinking with the
 * smallest case so far, and skips the confirmation.
 */
import fc from 'fast-check';
import { ArenaError } from '../../kernel/errors.js';
import { ScenarioInputError } from '../address.js';
import type { Step } from '../types.js';
import { opsArbitrary, realize, type AOp, type OpKind } from './gen.js';
import { Harness, type CaseOutcome, type Failure, type HarnessContext } from './harness.js';

export interface FuzzOptions extends HarnessContext {
  seed: number;
  /** Cases to run (ignored when timeMs is set). */
  runs: number;
  /** Run for this long instead of a number of runs. */
  timeMs?: number;
  opsPerRun: number;
  weights: Readonly<Record<OpKind, number>>;
  /** fast-check replay path: run exactly that case (from a previous summary). */
  path?: string;
  /** Time allowed for shrinking (default 60 s). */
  shrinkTimeMs?: number;
  /** Re-runs of the minimal case (default 5). */
  confirmRuns?: number;
  onProgress?: (p: Progress) => void;
  /** Stop early (Ctrl-C): what finished is returned, with `interrupted` set. */
  signal?: AbortSignal;
}

export interface Progress {
  runs: number;
  ops: number;
  elapsedMs: number;
  divergences: number;
  phase: 'search' | 'shrink' | 'confirm';
}

export interface FoundCase {
  /** fast-check's replay path of the original failing case. */
  path: string;
  /** Replay path of the shrunk case. */
  shrunkPath: string;
  originalSteps: number;
  /** Minimal steps, the failing one last. */
  steps: Step[];
  /** The outcome of the last confirmation run (recorded model results). */
  outcome: CaseOutcome;
  failure: Failure;
  deterministic: boolean;
  reproduced: number;
  confirmRuns: number;
  shrinks: number;
}

export interface FuzzResult {
  seed: number;
  runs: number;
  ops: number;
  elapsedMs: number;
  /** Differential ops per second during the search. */
  opsPerSec: number;
  /** Per op kind: how many steps of that kind the search ran (coverage). */
  opCounts: Record<string, number>;
  /** Cases the harness could not run (generator bugs): count and the first message. */
  errors: number;
  firstError?: string;
  found?: FoundCase;
  /** Stopped by `signal`: the search did not finish, or the finding is not fully shrunk. */
  interrupted?: boolean;
}

/** Thrown inside the search property to end fast-check's run (endOnFailure) on a signal. */
const INTERRUPT = new Error('interrupted');

/** What makes two failures "the same divergence" while shrinking. */
function signature(steps: Step[], f: Failure): string {
  const kinds = f.differences.map((d) => d.split(/[: ]/)[0]).join(',');
  return `${f.kind}|${steps[f.step]?.op ?? '?'}|${kinds}`;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const h = new Harness(o);
  const arb = opsArbitrary(o.weights, o.opsPerRun);
  const t0 = performance.now();
  const res: FuzzResult = {
    seed: o.seed,
    runs: 0,
    ops: 0,
    elapsedMs: 0,
    opsPerSec: 0,
    opCounts: {},
    errors: 0,
  };
  let divergences = 0;
  let lastBreath = performance.now();
  /** Lets signal handlers run: the cases themselves never give the event loop a turn. */
  const breathe = async (): Promise<boolean> => {
    if (performance.now() - lastBreath >= 50) {
      await new Promise((r) => setImmediate(r));
      lastBreath = performance.now();
    }
    return o.signal?.aborted === true;
  };
  let lastTick = 0;
  let phase: Progress['phase'] = 'search';
  const tick = (force = false) => {
    const now = performance.now();
    if (!o.onProgress || (!force && now - lastTick < 500)) return;
    lastTick = now;
    o.onProgress({
      runs: res.runs,
      ops: res.ops,
      elapsedMs: now - t0,
      divergences,
      phase,
    });
  };
  const rctx = {
    probe: o.probe,
    profile: o.profile,
    pages: o.pages,
    ...(o.traits ? { traits: o.traits } : {}),
  };
  const exec = (ops: AOp[], count: boolean): { steps: Step[]; out: CaseOutcome | null } => {
    const steps = realize(ops, rctx);
    try {
      const out = h.run(h.scenario(steps));
      if (count) {
        res.runs++;
        res.ops += out.steps;
        for (const s of steps.slice(0, out.steps))
          res.opCounts[s.op] = (res.opCounts[s.op] ?? 0) + 1;
      }
      return { steps, out };
    } catch (e) {
      // A step the harness cannot carry out is a generator bug, not a finding: counted and
      // shown, never shrunk as if it were a divergence.
      if (!(e instanceof ArenaError || e instanceof ScenarioInputError)) throw e;
      res.errors++;
      res.firstError ??= `${e.message}\n  steps: ${JSON.stringify(steps)}`;
      return { steps, out: null };
    }
  };
  // Boxed: TypeScript does not see the assignment inside the property callback.
  const searchFail: { v: { steps: Step[]; out: CaseOutcome } | null } = { v: null };
  try {
    const search = await fc.check(
      fc.asyncProperty(arb, async (ops) => {
        if (await breathe()) throw INTERRUPT;
        const { steps, out } = exec(ops, true);
        tick();
        if (out?.failure) searchFail.v = { steps, out };
        return !out?.failure;
      }),
      {
        seed: o.seed,
        endOnFailure: true,
        ...(o.path !== undefined ? { path: o.path } : {}),
        ...(o.timeMs !== undefined
          ? { numRuns: 2 ** 31 - 1, interruptAfterTimeLimit: o.timeMs }
          : { numRuns: o.runs }),
      },
    );
    res.elapsedMs = performance.now() - t0;
    res.opsPerSec = res.ops / (res.elapsedMs / 1000);
    if (search.errorInstance === INTERRUPT) {
      res.interrupted = true;
      return res;
    }
    if (!search.failed || search.counterexamplePath === null) return res;
    divergences = 1;
    phase = 'shrink';
    tick(true);
    let target: string | null = null;
    let firstLen = 0;
    const shrink = await fc.check(
      fc.asyncProperty(arb, async (ops) => {
        // Interrupted: every further candidate "passes", so shrinking stops where it is.
        if (await breathe()) return true;
        const { steps, out } = exec(ops, false);
        tick();
        if (!out?.failure) return true;
        const sig = signature(steps, out.failure);
        if (target === null) {
          target = sig;
          firstLen = steps.length;
        }
        return sig !== target;
      }),
      {
        seed: o.seed,
        path: search.counterexamplePath,
        numRuns: 1,
        interruptAfterTimeLimit: o.shrinkTimeMs ?? 60_000,
      },
    );
    const ops = (shrink.counterexample?.[0] ?? search.counterexample?.[0]) as AOp[] | undefined;
    let steps = ops ? realize(ops, rctx) : [];
    let first = h.run(h.scenario(steps));
    if (!first.failure && searchFail.v) {
      // The shrunk case does not fail again: a flaky divergence. Keep the case as found;
      // the confirmation below says how often it comes back.
      steps = searchFail.v.steps;
      first = searchFail.v.out;
      firstLen = steps.length;
    }
    if (!first.failure) return res;
    const sig = signature(steps, first.failure);
    steps = steps.slice(0, first.failure.step + 1);
    res.interrupted = o.signal?.aborted === true || undefined;
    // Remove single steps (last but one first) while the same divergence stays at the end.
    for (let i = res.interrupted ? -1 : steps.length - 2; i >= 0; i--) {
      const cand = steps.filter((_, j) => j !== i);
      let out: CaseOutcome;
      try {
        out = h.run(h.scenario(cand));
      } catch {
        continue;
      }
      if (out.failure && signature(cand, out.failure) === sig) {
        steps = cand.slice(0, out.failure.step + 1);
        i = Math.min(i, steps.length - 1);
      }
    }
    phase = 'confirm';
    tick(true);
    const confirmRuns = res.interrupted ? 0 : (o.confirmRuns ?? 5);
    const key = (out: CaseOutcome) =>
      out.failure ? `${signature(steps, out.failure)}|${out.failure.differences.join('\n')}` : '';
    const minimal = h.run(h.scenario(steps));
    const want = key(minimal);
    let reproduced = 0;
    let outcome: CaseOutcome | undefined;
    for (let k = 0; k < confirmRuns; k++) {
      const out = h.run(h.scenario(steps), { record: true });
      if (want !== '' && key(out) === want) {
        reproduced++;
        outcome ??= out;
      }
    }
    outcome ??= minimal.failure ? minimal : first;
    res.found = {
      path: search.counterexamplePath,
      shrunkPath: shrink.counterexamplePath ?? search.counterexamplePath,
      originalSteps: firstLen,
      steps,
      outcome,
      failure: outcome.failure ?? first.failure!,
      deterministic: confirmRuns > 0 && reproduced === confirmRuns,
      reproduced,
      confirmRuns,
      shrinks: shrink.numShrinks,
    };
    return res;
  } finally {
    res.elapsedMs = res.elapsedMs || performance.now() - t0;
    h.dispose();
  }
}
