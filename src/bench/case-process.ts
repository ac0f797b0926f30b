/**
 * Runs each bench case in a worker process (src/bench/case-worker.ts), reused while it lives.
 * A worker that dies mid-case (the OOM killer's SIGKILL, a crash) or a case that throws
 * becomes that case's `failed` record with the reason; the run goes on with a new worker.
 * Node's own process then never maps, populates or unmaps case memory.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeResult } from '../kernel/probe.js';
import type { CaseBase, CaseOutcome, CaseJob, SampleOptions, WorkerReply } from './case-job.js';
import type { BenchCase } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Run from dist/ (the CLI) the worker sits beside this file; from src/ (vitest) it is the
// built one.
const WORKER = fs.existsSync(path.join(here, 'case-worker.js'))
  ? path.join(here, 'case-worker.js')
  : path.join(here, '../../dist/bench/case-worker.js');

export class CaseProcess {
  private child: ChildProcess | null = null;

  private spawn(): ChildProcess {
    const c = fork(WORKER, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    // An 'error' while a case runs is that case's failure (run() listens); one between
    // cases (an IPC write to a worker that has just died) must not kill this process, and
    // the next case then starts a new worker.
    c.on('error', () => {
      if (this.child === c) this.child = null;
    });
    return c;
  }

  /** Asks the running case to stop after its current sample (SIGINT, as from a terminal). */
  interrupt(): void {
    this.child?.kill('SIGINT');
  }

  run(c: BenchCase, options: SampleOptions, probe: ProbeResult, fallback: () => CaseBase) {
    const child = (this.child ??= this.spawn());
    let stderr = '';
    const onErr = (d: Buffer): void => {
      stderr = (stderr + d.toString()).slice(-4000);
    };
    child.stderr?.on('data', onErr);
    const t0 = Date.now();
    let base: CaseBase | null = null;
    return new Promise<CaseOutcome>((resolve) => {
      const failed = (reason: string): CaseOutcome => ({
        record: {
          ...(base ?? fallback()),
          status: 'failed',
          reason,
          observed: null,
          samples: [],
          stats: null,
          durationMs: Date.now() - t0,
          finishedAt: new Date().toISOString(),
        },
        interrupted: false,
      });
      const finish = (o: CaseOutcome): void => {
        child.off('message', onMsg);
        child.off('exit', onExit);
        child.off('error', onError);
        child.stderr?.off('data', onErr);
        resolve(o);
      };
      const onMsg = (m: WorkerReply): void => {
        if (m.kind === 'base') base = m.base;
        else if (m.kind === 'done') finish(m.outcome);
        else finish(failed(m.message));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.child = null;
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        const how =
          signal === 'SIGKILL'
            ? 'was killed by SIGKILL (what the OOM killer sends when memory runs out)'
            : signal
              ? `died of ${signal}`
              : `exited with code ${code}`;
        finish(failed(`the process running this case ${how}${tail ? `: ${tail}` : ''}`));
      };
      // fork() itself failed (EAGAIN, ENOMEM): no 'exit' follows.
      const onError = (e: Error): void => {
        this.child = null;
        finish(failed(`could not start the process for this case: ${e.message}`));
      };
      child.on('message', onMsg);
      child.on('exit', onExit);
      child.on('error', onError);
      // Only the sampling options travel (the run's callbacks cannot be cloned).
      const { samples, warmup, pin, isolated, noVerify, trace } = options;
      const job: CaseJob = {
        case: c,
        options: {
          samples,
          warmup,
          pin,
          isolated,
          ...(noVerify ? { noVerify } : {}),
          ...(trace ? { trace } : {}),
        },
        probe,
      };
      child.send(job);
    });
  }

  close(): void {
    this.child?.disconnect();
    this.child = null;
  }
}
