/**
 * Runs scenarios in worker processes (--jobs N), each scenario under a timeout. A worker
 * that dies mid-scenario turns that scenario into a `crash` result (with the signal or exit
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
import type { WorkerInit, WorkerJob } from './worker.js';

export interface PoolOptions {
  jobs: number;
  timeoutMs: number;
  probe: ProbeResult;
  profile: Profile;
  traits?: ModelTraits;
  only?: 'kernel' | 'model';
  onResult?: (r: ScenarioResult, index: number) => void;
}

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');

export async function runPool(scenarios: Scenario[], o: PoolOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(scenarios.length);
  let next = 0;
  const init: WorkerInit = {
    kind: 'init',
    probe: o.probe,
    profile: o.profile,
    ...(o.traits ? { traits: o.traits } : {}),
    ...(o.only ? { only: o.only } : {}),
  };

  const lane = async (): Promise<void> => {
    let child: ChildProcess | undefined;
    const spawn = () => {
      const c = fork(WORKER, [], {
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      c.send(init);
      return c;
    };
    while (next < scenarios.length) {
      const index = next++;
      const sc = scenarios[index]!;
      child ??= spawn();
      const c = child;
      let stderr = '';
      const onErr = (d: Buffer) => {
        stderr += d.toString();
      };
      c.stderr?.on('data', onErr);
      const t0 = performance.now();
      const result = await new Promise<ScenarioResult>((resolve) => {
        const base = {
          id: sc.id,
          title: sc.title,
          source: sc.source,
          profile: o.profile.name,
          steps: 0,
        };
        const timer = setTimeout(() => {
          c.kill('SIGKILL');
          resolve({
            ...base,
            status: 'timeout',
            reason: `no result after ${o.timeoutMs} ms; worker killed`,
            durationMs: performance.now() - t0,
          });
        }, o.timeoutMs);
        const onMsg = (m: { index: number; result: ScenarioResult }) => {
          if (m.index !== index) return;
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
            durationMs: performance.now() - t0,
          });
        };
        const cleanup = () => {
          clearTimeout(timer);
          c.off('message', onMsg);
          c.off('exit', onExit);
        };
        c.on('message', onMsg);
        c.on('exit', onExit);
        const job: WorkerJob = { kind: 'run', index, scenario: sc };
        c.send(job);
      });
      c.stderr?.off('data', onErr);
      if (result.status === 'crash' || result.status === 'timeout') child = undefined;
      results[index] = result;
      o.onResult?.(result, index);
    }
    child?.disconnect();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, scenarios.length)) }, lane));
  return results;
}
