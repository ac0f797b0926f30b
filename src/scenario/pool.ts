/**
 * Runs scenarios in worker processes (--jobs N, at most one per CPU), each scenario under a
 * timeout counted from when the worker starts it: a worker's own start-up (loading Node
 * and the addon, slow when the machine is busy) is not the scenario's time. A worker that
 * dies mid-scenario turns that scenario into a `crash` result (with the signal or exit
 * code) and is replaced; one that overruns the timeout is killed and the scenario is a
 * `timeout`. The run always goes on.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeResult } from '../kernel/probe.js';
import type { Profile } from '../model/profiles.js';
import type { ModelTraits } from '../model/traits.js';
import type { ScenarioResult } from './execute.js';
import type { Scenario } from './types.js';
import { readSysctls, writeSysctls } from './sysctls.js';
import type { TracerStatus } from '../kernel/trace/discover.js';
import type { WorkerDone, WorkerInit, WorkerJob, WorkerStarted } from './worker.js';

export interface PoolOptions {
  jobs: number;
  timeoutMs: number;
  probe: ProbeResult;
  profile: Profile;
  traits?: ModelTraits;
  only?: 'kernel' | 'model';
  /** validate --trace: a usable tracer (its probes exist while the pool runs). */
  trace?: TracerStatus;
  /** validate --profiles: also judge every scenario under these profiles (by name). */
  profiles?: string[];
  onResult?: (r: ScenarioResult, index: number) => void;
  /** Stop (Ctrl-C): running workers are killed, nothing new starts; what finished is returned. */
  signal?: AbortSignal;
}

/** How long a worker may take to start a scenario it was sent (start-up included). */
const START_LIMIT_MS = 120_000;

/**
 * More workers than CPUs only make them wait for each other, and the waiting counted
 * against their timeouts. Returns the worker count and, when it was lowered, why.
 */
export function boundJobs(requested: number, cpus: number): { jobs: number; note?: string } {
  if (requested <= cpus) return { jobs: requested };
  return {
    jobs: cpus,
    note: `--jobs ${requested} is more than the ${cpus} CPU${cpus === 1 ? '' : 's'} here; using ${cpus}`,
  };
}

/** The scenario's settings as they are now, or null when they cannot be read. */
function savedSysctls(sc: Scenario): Record<string, string> | null {
  try {
    return readSysctls(Object.keys(sc.sysctls ?? {}));
  } catch {
    return null;
  }
}

function exited(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve();
    else c.once('exit', () => resolve());
  });
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');

/** nobody: the credentials an `unprivileged` scenario's worker is started with. */
const NOBODY = 65534;

/** Which run a scenario belongs to (see runPool). */
export function poolPhase(sc: Scenario, only: PoolOptions['only']): 'shared' | 'nobody' | 'alone' {
  if (only === 'model') return 'shared';
  if (sc.sysctls) return 'alone';
  if (sc.user === 'unprivileged' && process.geteuid?.() === 0) return 'nobody';
  return 'shared';
}

/**
 * The results of the scenarios that finished, in the order given (all of them unless
 * stopped). Scenarios run in three phases: the ordinary ones on --jobs workers; the
 * `user: "unprivileged"` ones on one worker started as nobody (when the tool is root);
 * last, one at a time with no other worker alive, the ones that set `sysctls` (global
 * settings every process sees). The parent records those settings before each such
 * scenario and writes them back after it, whatever became of the worker (crash, timeout,
 * Ctrl-C); the worker itself restores them as soon as its steps are done.
 */
export async function runPool(scenarios: Scenario[], o: PoolOptions): Promise<ScenarioResult[]> {
  const results: (ScenarioResult | undefined)[] = new Array(scenarios.length);
  const phases = { shared: [] as number[], nobody: [] as number[], alone: [] as number[] };
  scenarios.forEach((sc, i) => phases[poolPhase(sc, o.only)].push(i));
  let queue: number[] = [];
  const init: WorkerInit = {
    kind: 'init',
    probe: o.probe,
    profile: o.profile,
    ...(o.traits ? { traits: o.traits } : {}),
    ...(o.only ? { only: o.only } : {}),
    ...(o.trace ? { trace: o.trace } : {}),
    ...(o.profiles ? { profiles: o.profiles } : {}),
  };

  const lane = async (nobody: boolean, laneIndex: number): Promise<void> => {
    let child: ChildProcess | undefined;
    const spawn = () => {
      const c = fork(WORKER, [], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
        ...(nobody ? { uid: NOBODY, gid: NOBODY } : {}),
      });
      // Each lane's worker on its own CPU (worker.ts says why).
      c.send({ ...init, cpu: laneIndex });
      return c;
    };
    while (queue.length > 0 && !o.signal?.aborted) {
      const index = queue.shift()!;
      const sc = scenarios[index]!;
      const saved = sc.sysctls ? savedSysctls(sc) : null;
      child ??= spawn();
      const c = child;
      let stderr = '';
      const onErr = (d: Buffer) => {
        stderr += d.toString();
      };
      c.stderr?.on('data', onErr);
      const t0 = performance.now();
      const result = await new Promise<ScenarioResult | null>((resolve) => {
        const base = {
          id: sc.id,
          title: sc.title,
          source: sc.source,
          profile: o.profile.name,
          steps: 0,
        };
        let started = t0;
        const expire = (reason: string) => () => {
          cleanup();
          c.kill('SIGKILL');
          resolve({
            ...base,
            status: 'timeout',
            reason,
            durationMs: performance.now() - started,
          });
        };
        let timer = setTimeout(
          expire(`the worker did not start it within ${START_LIMIT_MS / 1000} s; worker killed`),
          Math.max(START_LIMIT_MS, o.timeoutMs),
        );
        const onMsg = (m: WorkerStarted | WorkerDone) => {
          if (m.index !== index) return;
          if (m.kind === 'started') {
            started = performance.now();
            clearTimeout(timer);
            timer = setTimeout(
              expire(`no result ${o.timeoutMs} ms after it started; worker killed`),
              o.timeoutMs,
            );
            return;
          }
          cleanup();
          resolve(m.result);
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          cleanup();
          const tail = stderr.trim().split('\n').slice(-5).join('\n');
          resolve({
            ...base,
            status: 'crash',
            reason: `worker died (${signal ?? `exit ${code}`})${tail ? `: ${tail}` : ''}`,
            durationMs: performance.now() - started,
          });
        };
        const onAbort = () => {
          cleanup();
          c.kill('SIGKILL');
          resolve(null);
        };
        const cleanup = () => {
          clearTimeout(timer);
          c.off('message', onMsg);
          c.off('exit', onExit);
          o.signal?.removeEventListener('abort', onAbort);
        };
        c.on('message', onMsg);
        c.on('exit', onExit);
        o.signal?.addEventListener('abort', onAbort);
        const job: WorkerJob = { kind: 'run', index, scenario: sc };
        c.send(job);
      });
      c.stderr?.off('data', onErr);
      if (saved) {
        // The worker is gone or done: nothing else can be relying on the scenario's values.
        if (result === null || result.status === 'crash' || result.status === 'timeout')
          await exited(c);
        writeSysctls(saved);
      }
      if (result === null) {
        child = undefined;
        break;
      }
      if (result.status === 'crash' || result.status === 'timeout') child = undefined;
      results[index] = result;
      o.onResult?.(result, index);
    }
    child?.disconnect();
  };
  const run = async (items: number[], lanes: number, nobody: boolean) => {
    queue = items;
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(lanes, items.length)) }, (_, i) => lane(nobody, i)),
    );
  };
  await run(phases.shared, o.jobs, false);
  if (phases.nobody.length) await run(phases.nobody, 1, true);
  if (phases.alone.length) await run(phases.alone, 1, false);
  return results.filter((r): r is ScenarioResult => r !== undefined);
}
