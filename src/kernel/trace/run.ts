/**
 * A tracing run (validate --trace, bench --trace): find out what this kernel lets us
 * observe and, when it is usable, create the kprobes for the whole run in the process that
 * will also remove them. kprobe_events is global, and a worker killed mid-case (a timeout,
 * the OOM killer) would leave its own probes behind.
 */
import { discoverTracer, type TracerStatus } from './discover.js';
import { addProbes } from './observer.js';

export interface TracerRun {
  status: TracerStatus;
  /** The status to hand the workers; undefined when the plan cannot be traced here. */
  usable: TracerStatus | undefined;
  /** Why the plan cannot be traced on this kernel, or null. */
  problem: string | null;
  /** Removes the probes (idempotent). */
  stop(): void;
}

export function startTracer(release: string): TracerRun {
  const status = discoverTracer(release);
  let problem = status.problem;
  // What ftrace itself says is part of the why (EPERM on a locked-down host).
  if (problem !== null)
    problem = `${problem}; available_filter_functions: ${status.filterFunctions}`;
  let stop = (): void => {};
  if (problem === null) {
    try {
      stop = addProbes(status);
    } catch (e) {
      problem = `the probes could not be created: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return {
    status,
    usable: problem === null ? status : undefined,
    problem,
    stop: () => {
      stop();
      stop = () => {};
    },
  };
}
