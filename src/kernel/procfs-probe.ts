import { native } from '../native.js';

/** Whether the procfs ioctls answer: ENOTTY (or EINVAL for unknown commands) means absent. */
export function probeProcfsIoctls(): { procmapQuery: boolean; pagemapScan: boolean } {
  return {
    procmapQuery: native.probeProcmapQuery().ok,
    pagemapScan: native.probePagemapScan().ok,
  };
}
