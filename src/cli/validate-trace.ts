/**
 * `validate --trace` around the pool: find out what this kernel lets us observe, say at
 * once when it is nothing (and why), and own the kprobes for the whole run, since
 * kprobe_events is global and a worker killed by a timeout would leave its probes behind.
 */
import { discoverTracer, type TracerStatus } from '../kernel/trace/discover.js';
import { addProbes } from '../kernel/trace/observer.js';
import type { ScenarioResult } from '../scenario/execute.js';
import { summarizePlans, type PlanTraceReport } from '../scenario/report/plan-summary.js';

export interface PlanTraceRun {
  /** The status to hand the workers, or undefined when the plan cannot be traced here. */
  usable: TracerStatus | undefined;
  stop(): void;
  summary(results: readonly ScenarioResult[]): PlanTraceReport;
}

export function startPlanTrace(release: string): PlanTraceRun {
  const status = discoverTracer(release);
  let problem = status.problem;
  let stop = (): void => {};
  // What ftrace itself says is part of the why (EPERM on a locked-down host).
  if (problem !== null)
    problem = `${problem}; available_filter_functions: ${status.filterFunctions}`;
  if (problem === null) {
    try {
      stop = addProbes(status);
    } catch (e) {
      problem = `the probes could not be created: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  if (problem !== null)
    process.stderr.write(
      `mremap-lab validate: --trace: the move plan cannot be verified on this kernel: ${problem}; the scenarios run without plan checks\n`,
    );
  return {
    usable: problem === null ? status : undefined,
    stop: () => {
      stop();
      stop = () => {};
    },
    summary: (results) => summarizePlans({ method: status.method, problem }, results),
  };
}
