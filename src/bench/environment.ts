/**
 * The machine a results file was measured on, beyond the kernel release: enough to explain
 * two files 15× apart (issue 16: a 1 GiB PTE move at 52 ms against 3.4 ms on "the same"
 * machine kind). The static part goes in the header; steal time and load are read around
 * each case (`RunConditions`). `compare` warns about every difference (environmentWarnings).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
import { cpuModel } from './cpu-model.js';

export interface BenchEnvironment {
  cmdline: string | null;
  /** The cpuid hypervisor bit (/proc/cpuinfo "hypervisor"), /sys/hypervisor/type, DMI. */
  hypervisor: { cpuidBit: boolean; sysType: string | null; dmi: string | null };
  cpuModel: string;
  thp: { enabled: string | null; defrag: string | null; shmemEnabled: string | null };
  /** sha256 (16 hex) of the running kernel's config: /proc/config.gz or /boot/config-*. */
  kernelConfig: string | null;
}

const read = (f: string): string | null => {
  try {
    return fs.readFileSync(f, 'utf8').trim();
  } catch {
    return null;
  }
};

/** The bracketed choice of a sysfs mode file ("always [madvise] never" → "madvise"). */
const chosen = (f: string): string | null => {
  const v = read(f);
  return v === null ? null : (/\[([^\]]+)\]/.exec(v)?.[1] ?? v);
};

function configDigest(): string | null {
  let text: Buffer | null = null;
  try {
    text = zlib.gunzipSync(fs.readFileSync('/proc/config.gz'));
  } catch {
    try {
      text = fs.readFileSync(`/boot/config-${os.release()}`);
    } catch {
      return null;
    }
  }
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export function benchEnvironment(): BenchEnvironment {
  const vendor = read('/sys/class/dmi/id/sys_vendor');
  const product = read('/sys/class/dmi/id/product_name');
  const thp = '/sys/kernel/mm/transparent_hugepage';
  return {
    cmdline: read('/proc/cmdline'),
    hypervisor: {
      cpuidBit: /^flags\s*:.*\bhypervisor\b/m.test(read('/proc/cpuinfo') ?? ''),
      sysType: read('/sys/hypervisor/type'),
      dmi: vendor || product ? [vendor, product].filter(Boolean).join(' ') : null,
    },
    cpuModel: cpuModel(),
    thp: {
      enabled: chosen(`${thp}/enabled`),
      defrag: chosen(`${thp}/defrag`),
      shmemEnabled: chosen(`${thp}/shmem_enabled`),
    },
    kernelConfig: configDigest(),
  };
}

/** Steal time (all CPUs, /proc/stat, in ms) and the 1-minute load average. */
export interface RunConditions {
  stealMs: number;
  load1: number;
}

export function stealMsNow(): number {
  const cpu = /^cpu\s+(.*)$/m.exec(read('/proc/stat') ?? '');
  // user nice system idle iowait irq softirq steal: USER_HZ ticks (100 per second).
  const steal = cpu ? Number(cpu[1]!.trim().split(/\s+/)[7] ?? 0) : 0;
  return steal * 10;
}

/** What happened to the machine while a case ran, given the steal read before it. */
export function conditionsSince(stealBefore: number): RunConditions {
  return { stealMs: stealMsNow() - stealBefore, load1: os.loadavg()[0]! };
}

const FIELDS: [string, (e: BenchEnvironment) => unknown][] = [
  ['/proc/cmdline', (e) => e.cmdline],
  ['hypervisor', (e) => JSON.stringify(e.hypervisor)],
  ['CPU model', (e) => e.cpuModel],
  ['THP settings', (e) => JSON.stringify(e.thp)],
  ['kernel config digest', (e) => e.kernelConfig],
];

/** One line per difference between two files' environments and run conditions. */
export function environmentWarnings(
  a: { file: string; env?: BenchEnvironment; conditions: RunConditions[]; durationMs: number },
  b: { file: string; env?: BenchEnvironment; conditions: RunConditions[]; durationMs: number },
): string[] {
  const out: string[] = [];
  if (!a.env || !b.env) {
    const old = !a.env ? a.file : b.file;
    return [`${old} records no environment (written before it was recorded): differences unknown`];
  }
  for (const [name, get] of FIELDS) {
    const x = get(a.env);
    const y = get(b.env);
    if (x !== y) out.push(`${name} differs: ${String(x)} vs ${String(y)}`);
  }
  const load = (r: RunConditions[]) => r.reduce((s, c) => s + c.load1, 0) / (r.length || 1);
  const steal = (r: RunConditions[], ms: number) =>
    r.reduce((s, c) => s + c.stealMs, 0) / (ms || 1);
  const la = load(a.conditions);
  const lb = load(b.conditions);
  if (Math.abs(la - lb) >= 1)
    out.push(`load during the runs differs: mean 1-min load ${la.toFixed(2)} vs ${lb.toFixed(2)}`);
  const sa = steal(a.conditions, a.durationMs);
  const sb = steal(b.conditions, b.durationMs);
  if (Math.abs(sa - sb) >= 0.01)
    out.push(
      `steal time during the runs differs: ${(100 * sa).toFixed(1)}% vs ${(100 * sb).toFixed(1)}% of case time (all CPUs)`,
    );
  return out;
}
