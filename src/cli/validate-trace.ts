/**
 * `validate --trace` around the pool: the tracer for the whole run (kernel/trace/run.ts),
 * said at once on stderr when this kernel lets us observe nothing, and the plan summary
 * for the report.
 */
import { startTracer } from '../kernel/trace/run.js';
import type { TracerStatus } from '../kernel/trace/discover.js';
import type { ScenarioResult } from '../scenario/execute.js';
import { summarizePlans, type PlanTraceReport } from '../scenario/report/plan-summary.js';

export interface PlanTraceRun {
  usable: TracerStatus | undefined;
  stop(): void;
  summary(results: readonly ScenarioResult[]): PlanTraceReport;
}

export function startPlanTrace(release: string): PlanTraceRun {
  const t = startTracer(release);
  if (t.problem !== null)
    process.stderr.write(
      `mremap-lab validate: --trace: the move plan cannot be verified on this kernel: ${t.problem}; the scenarios run without plan checks\n`,
    );
  return {
    usable: t.usable,
    stop: t.stop,
    summary: (results) =>
      summarizePlans({ method: t.usable ? t.status.method : 'none', problem: t.problem }, results),
  };
}
