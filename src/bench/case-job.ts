/**
 * What crosses between the bench runner (run.ts), the case process (case-process.ts) and the
 * worker (case-worker.ts): one case's job, its sampling options and the replies. Its own
 * module so that run.ts and case-process.ts need not import each other.
 */
import type { TracerStatus } from '../kernel/trace/discover.js';
import type { ProbeResult } from '../kernel/probe.js';
import type { CaseRecord } from './results.js';
import type { BenchCase } from './types.js';

export interface SampleOptions {
  samples: number;
  warmup: number;
  /** CPU for sched_setaffinity in the sampling process; null = no pinning. */
  pin: number | null;
  /**
   * Always true: timed samples run only in a forked single-threaded child. In a
   * multi-threaded process (Node's V8 and libuv threads) every page-table move must flush
   * the TLBs of the other CPUs the mm ran on (flush_tlb_mm_range sends IPIs), which the
   * selftest and any single-threaded C program never pay (docs/benchmarks.md).
   */
  isolated: true;
  /** Overrides the case's verify flag with false (for speed). */
  noVerify?: boolean;
  /**
   * bench --trace on a kernel that lets us observe move_page_tables(): the untimed observe
   * call is traced (the probes exist for the whole run: runBench owns them).
   */
  trace?: TracerStatus;
}

export interface CaseOutcome {
  record: Omit<CaseRecord, 'index'>;
  interrupted: boolean;
}

/** What a case's record holds before anything runs: its id, layout and predicted plan. */
export type CaseBase = Omit<CaseRecord, 'index' | 'status' | 'observed' | 'samples' | 'stats'>;

/** One case for the worker (src/bench/case-worker.ts), and its replies. */
export interface CaseJob {
  case: BenchCase;
  options: SampleOptions;
  probe: ProbeResult;
}
export type WorkerReply =
  | { kind: 'base'; base: CaseBase }
  | { kind: 'done'; outcome: CaseOutcome }
  | { kind: 'error'; message: string };
