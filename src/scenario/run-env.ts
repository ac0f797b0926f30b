/**
 * What a scenario asks of the process and the machine around its steps: `sysctls` (global,
 * written just before the steps and put back after), `rlimits.memlock` and `user:
 * "unprivileged"` (the worker was started as nobody: pool.ts). Both sides see the result:
 * the kernel side lives in it, the model is told the values as read back.
 */
import fs from 'node:fs';
import { native } from '../native.js';
import type { ProbeResult } from '../kernel/probe.js';
import { resolveLen } from './address.js';
import { probeWithSysctls, readSysctls, resolveSysctls, writeSysctls } from './sysctls.js';
import type { Scenario } from './types.js';

/** What the model is told about the run's credentials and machine. */
export interface ModelEnv {
  probe: ProbeResult;
  /** RLIMIT_MEMLOCK in bytes when the process lacks CAP_IPC_LOCK; undefined: it has it. */
  rlimitMemlock?: bigint;
  pfnsVisible: boolean;
  /** False for nobody; then vm.unprivileged_userfaultfd decides kernel-fault userfaultfds. */
  capSysPtrace: boolean;
  unprivilegedUserfaultfd: boolean;
}

export interface RunEnv extends ModelEnv {
  /** Puts back what was changed, last change first. Safe to call twice. */
  restore(): void;
}

const UNLIMITED = 2n ** 64n - 1n;

function softMemlock(): bigint | undefined {
  const r = native.memlockLimit();
  if (!r.ok || r.value[0] === UNLIMITED) return undefined;
  return r.value[0];
}

function readUnprivUffd(): boolean {
  try {
    return fs.readFileSync('/proc/sys/vm/unprivileged_userfaultfd', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

/**
 * Enters the scenario's environment, or says why it cannot run here (SKIP). `other` is the
 * process's VMA count outside the arena and its guards (for `"+N"` max_map_count values).
 */
export function enterEnv(
  sc: Scenario,
  probe: ProbeResult,
  only: 'kernel' | 'model' | undefined,
  other: number,
): RunEnv | { skip: string } {
  const unpriv = sc.user === 'unprivileged';
  const memlock =
    sc.rlimits?.memlock !== undefined ? resolveLen(sc.rlimits.memlock, '$.rlimits.memlock') : null;
  if (only === 'model') {
    // The model stands for a kernel run as asked: the settings as written, nobody's limits.
    return {
      probe: sc.sysctls ? probeWithSysctls(probe, resolveSysctls(sc.sysctls, 0)) : probe,
      ...(unpriv ? { rlimitMemlock: memlock ?? softMemlock() ?? UNLIMITED } : {}),
      pfnsVisible: !unpriv && probe.pagemapPfns,
      // The stock default: vm.unprivileged_userfaultfd=0 since it exists (5.2).
      capSysPtrace: !unpriv,
      unprivilegedUserfaultfd: false,
      restore: () => {},
    };
  }
  if (unpriv && isRoot())
    return {
      skip: 'needs an unprivileged worker (validate starts one as nobody, uid 65534, when run as root); this process is root',
    };
  if (sc.sysctls && !isRoot())
    return { skip: `needs root to set ${Object.keys(sc.sysctls).join(', ')}` };
  const undo: (() => void)[] = [];
  const restore = () => {
    while (undo.length) undo.pop()!();
  };
  if (memlock !== null) {
    const old = native.memlockLimit();
    if (!old.ok) return { skip: `cannot read RLIMIT_MEMLOCK (errno ${old.errno})` };
    const set = native.setMemlockLimit(memlock);
    if (!set.ok)
      return {
        skip: `cannot set RLIMIT_MEMLOCK to ${memlock} bytes (hard limit ${old.value[1]}; errno ${set.errno})`,
      };
    undo.push(() => void native.setMemlockLimit(old.value[0]));
  }
  let seen = probe;
  if (sc.sysctls) {
    const keys = Object.keys(sc.sysctls);
    const old = readSysctls(keys);
    undo.push(() => void writeSysctls(old));
    const want = resolveSysctls(sc.sysctls, other);
    const why = writeSysctls(want);
    const got = why === null ? readSysctls(keys) : {};
    const off = why ?? keys.find((k) => got[k] !== want[k]);
    if (off !== undefined) {
      restore();
      return {
        skip: why ?? `${off} reads ${got[off!]} after writing ${want[off!]} (the kernel kept less)`,
      };
    }
    seen = probeWithSysctls(probe, got);
  }
  return {
    probe: seen,
    // mm/mlock.c:can_do_mlock and mlock_future_ok: root has CAP_IPC_LOCK, nobody has not.
    ...(isRoot() ? {} : { rlimitMemlock: softMemlock() ?? UNLIMITED }),
    // fs/proc/task_mmu.c:pagemap_open: nobody never sees PFNs, whatever the probe saw as root.
    pfnsVisible: !unpriv && probe.pagemapPfns,
    capSysPtrace: isRoot(),
    // Read when the scenario starts: the run cannot set it for an unprivileged worker.
    unprivilegedUserfaultfd: readUnprivUffd(),
    restore,
  };
}
