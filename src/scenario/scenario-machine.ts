/**
 * What a scenario's own run fields (sysctls, user, rlimits) tell a model that stands for a
 * kernel run as the file asks, with nothing measured: the profile matrix's models. The
 * settings are taken as written (`"+N"` is N: such a model holds no other VMAs).
 */
import type { ModelSpaceOptions, ThpMode } from '../model/mm.js';
import { resolveLen } from './address.js';
import { resolveSysctls } from './sysctls.js';
import type { Scenario } from './types.js';

export function scenarioMachine(sc: Scenario): Partial<ModelSpaceOptions> {
  const o: Partial<ModelSpaceOptions> = {};
  for (const [k, v] of Object.entries(resolveSysctls(sc.sysctls ?? {}, 0))) {
    if (k === 'vm.max_map_count') o.maxMapCount = Number(v);
    else if (k === 'vm.overcommit_memory') o.overcommit = Number(v) as 0 | 1 | 2;
    else if (k === 'transparent_hugepage/enabled') o.thp = v as ThpMode;
  }
  if (sc.user === 'unprivileged') {
    // No CAP_IPC_LOCK, no CAP_SYS_ADMIN; without a limit in the file, none is assumed.
    const m = sc.rlimits?.memlock;
    o.rlimitMemlock = m === undefined ? 2n ** 64n - 1n : resolveLen(m, '$.rlimits.memlock');
    o.pfnsVisible = false;
    o.capSysPtrace = false;
  }
  return o;
}
