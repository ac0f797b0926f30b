/**
 * A worker process: receives scenarios over IPC and runs them one at a time. A crash or a
 * hang here costs the parent one scenario (reported as crash/timeout) and a new worker.
 */
import { executeScenario, type ExecContext, type ScenarioResult } from './execute.js';
import { executeMatrix } from './execute-matrix.js';
import { getProfile, withOverrides, type Profile } from '../model/profiles.js';
import type { ProbeResult } from '../kernel/probe.js';
import type { ModelTraits } from '../model/traits.js';
import type { Scenario } from './types.js';
import type { TracerStatus } from '../kernel/trace/discover.js';
import { native } from '../native.js';

export interface WorkerInit {
  kind: 'init';
  probe: ProbeResult;
  profile: Profile;
  traits?: ModelTraits;
  only?: 'kernel' | 'model';
  trace?: TracerStatus;
  /** validate --profiles: every scenario is also judged under these (by name). */
  profiles?: string[];
  /** Pin this worker's scenario thread to the cpu-th CPU it may run on (the pool's lane). */
  cpu?: number;
}

export interface WorkerJob {
  kind: 'run';
  index: number;
  scenario: Scenario;
}

/** Sent when a scenario begins here: its timeout counts from this message. */
export interface WorkerStarted {
  kind: 'started';
  index: number;
}

export interface WorkerDone {
  kind: 'done';
  index: number;
  result: ScenarioResult;
}

let ctx: ExecContext | undefined;
let matrix: Profile[] | undefined;

// Ctrl-C in a terminal signals the whole process group: the parent decides what stops
// (it kills this worker), so a scenario here is never cut short into a false crash.
process.on('SIGINT', () => {});

process.on('message', (msg: WorkerInit | WorkerJob) => {
  if (msg.kind === 'init') {
    // Profiles travel as plain data; re-derive from the registry when the name is known.
    let profile: Profile;
    try {
      profile = withOverrides(getProfile(msg.profile.name), msg.profile, msg.profile.name);
    } catch {
      profile = msg.profile;
    }
    ctx = {
      probe: msg.probe,
      profile,
      ...(msg.traits ? { traits: msg.traits } : {}),
      ...(msg.only ? { only: msg.only } : {}),
      ...(msg.trace ? { trace: msg.trace } : {}),
    };
    matrix = msg.profiles?.map((n) => getProfile(n));
    // The kernel batches folios per CPU (mm/swap.c: cpu_fbatches, 6.1 and later; pagevecs
    // before) and the calls that flush a batch flush only the calling CPU's (lru_add_drain
    // in madvise_free_single_vma, madvise_pageout, madvise_cold: mm/madvise.c). A scenario
    // whose calls hop CPUs can leave a folio in another CPU's batch, off the LRU or not yet
    // lazyfree, where MADV_FREE/PAGEOUT cannot reach it: results the model cannot predict.
    // On one CPU every such call drains what the earlier ones batched, as the model assumes.
    // Only this thread is pinned (pid 0), and it is the one that makes the scenario's calls;
    // fork children inherit it. A refusal (a cpuset change) leaves the worker unpinned.
    if (msg.cpu !== undefined) native.pinThread(msg.cpu);
    return;
  }
  if (!ctx) throw new Error('worker: job before init');
  // Fault injection for the isolation tests (docs/scenarios.md): the worker dies by SIGABRT
  // on the named scenario, as if the kernel or the addon had crashed it.
  if (process.env['MREMAP_LAB_CRASH_SCENARIO'] === msg.scenario.id) process.abort();
  const run = ctx;
  const started: WorkerStarted = { kind: 'started', index: msg.index };
  // The scenario blocks this event loop: start it only once "started" is on its way.
  process.send?.(started, undefined, {}, () => {
    const done: WorkerDone = {
      kind: 'done',
      index: msg.index,
      result: matrix
        ? executeMatrix(msg.scenario, run, matrix)
        : executeScenario(msg.scenario, run),
    };
    process.send?.(done);
  });
});
