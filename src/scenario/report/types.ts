import type { ScenarioResult } from '../execute.js';
import type { LoadError } from '../suite.js';
import type { PlanTraceReport } from './plan-summary.js';

export interface RunReport {
  tool: string;
  kernel: string;
  profile: string;
  profileReason: string;
  /** The traits the model was told (probed, with --trait overrides): `zeroPage=true …`. */
  traits: string;
  results: ScenarioResult[];
  loadErrors: LoadError[];
  durationMs: number;
  /** Set when the run was interrupted (SIGINT): the ids of the scenarios that did not finish. */
  notRun?: string[];
  /** validate --trace: the plan evidence, or why there is none on this kernel. */
  trace?: PlanTraceReport;
  /** validate --profiles: the profiles each result also has a verdict for (`profiles`). */
  profiles?: string[];
}

export function counts(
  r: RunReport,
): Record<'pass' | 'fail' | 'skip' | 'crash' | 'timeout' | 'error', number> {
  const c = { pass: 0, fail: 0, skip: 0, crash: 0, timeout: 0, error: 0 };
  for (const x of r.results) c[x.status]++;
  return c;
}
