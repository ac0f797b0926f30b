/**
 * A process that runs bench cases for `runBench` (src/bench/case-process.ts), one at a time.
 * Whatever a case does to this process (the OOM killer, a signal, a thrown error) costs that
 * case, never the run: the parent records it as failed and starts a new worker.
 */
import fs from 'node:fs';
import { runCase, type CaseJob, type WorkerReply } from './run.js';

const send = (m: WorkerReply): void => {
  process.send?.(m);
};

// Raising one's own oom_score_adj needs no privilege (mm/oom_kill.c oom_badness adds it to
// the score): under memory pressure the OOM killer then picks this worker (and the sampler
// it forks, which inherits the value), not the process that holds the results.
try {
  fs.writeFileSync('/proc/self/oom_score_adj', '1000');
} catch {
  // Without /proc the parent still survives a killed worker; it is only less likely.
}

// SIGINT is the parent's to act on (it forwards it here): the native sample loop has its
// own handler while it runs; between cases the worker must stay alive to answer.
process.on('SIGINT', () => {});

process.on('message', (job: CaseJob) => {
  try {
    const outcome = runCase(job.case, job.options, job.probe, (base) => {
      send({ kind: 'base', base });
      // Fault injection for the isolation test (docs/benchmarks.md): the worker dies by
      // SIGKILL on the named case, as the OOM killer would kill it.
      if (process.env['MREMAP_LAB_KILL_CASE'] === base.id) process.kill(process.pid, 'SIGKILL');
    });
    send({ kind: 'done', outcome });
  } catch (e) {
    send({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
  }
});
