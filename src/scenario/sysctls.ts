/**
 * The machine settings a scenario may set for its run (`sysctls`): /proc/sys keys in
 * sysctl(8)'s dotted spelling and the transparent_hugepage knobs under /sys/kernel/mm.
 * Only settings the model reads are accepted: setting one the model ignores would make a
 * divergence no rule explains. They are global, so such scenarios run alone (pool.ts),
 * and the parent puts the old values back whatever happens to the worker.
 */
import fs from 'node:fs';
import type { ProbeResult } from '../kernel/probe.js';
import { ScenarioInputError } from './address.js';

export type SysctlValue = number | string;

interface Knob {
  path: string;
  /** Why a value is refused, or null. */
  check(v: unknown): string | null;
}

const int = (min: number, max: number) => (v: unknown) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max
    ? null
    : `expected a whole number from ${min} to ${max}`;

const oneOf = (vals: string[]) => (v: unknown) =>
  typeof v === 'string' && vals.includes(v) ? null : `expected one of ${vals.join(', ')}`;

/** `"+N"`: N more VMAs than the process has outside the arena and its guards. */
const RELATIVE = /^\+(\d{1,6})$/;

export const SYSCTLS: Record<string, Knob> = {
  // mm/vma.c:__split_vma / vms_gather_munmap_vmas, mm/mmap.c:do_mmap, mm/mremap.c.
  'vm.max_map_count': {
    path: '/proc/sys/vm/max_map_count',
    check: (v) =>
      (typeof v === 'string' && RELATIVE.test(v)) || int(1, 2 ** 31 - 1)(v) === null
        ? null
        : 'expected a whole number ≥ 1, or "+N": N more than the VMAs of the process outside the arena',
  },
  // mm/util.c:__vm_enough_memory, mm/mmap.c accountable_mapping (VM_NORESERVE).
  'vm.overcommit_memory': { path: '/proc/sys/vm/overcommit_memory', check: int(0, 2) },
  // mm/hugetlb.c: the persistent pool (MAP_HUGETLB steps).
  'vm.nr_hugepages': { path: '/proc/sys/vm/nr_hugepages', check: int(0, 4096) },
  // mm/huge_memory.c:__thp_vma_allowable_orders, via hugepage_global_enabled/always.
  'transparent_hugepage/enabled': {
    path: '/sys/kernel/mm/transparent_hugepage/enabled',
    check: oneOf(['always', 'madvise', 'never']),
  },
};

/** Validates `$.sysctls` (schema.ts). */
export function checkSysctls(v: unknown, path: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ScenarioInputError('expected an object of setting → value', path);
  const entries = Object.entries(v);
  if (entries.length === 0) throw new ScenarioInputError('expected at least one setting', path);
  for (const [k, val] of entries) {
    const knob = SYSCTLS[k];
    if (!knob)
      throw new ScenarioInputError(
        `unknown setting "${k}"; known: ${Object.keys(SYSCTLS).join(', ')}`,
        `${path}["${k}"]`,
      );
    const why = knob.check(val);
    if (why) throw new ScenarioInputError(why, `${path}["${k}"]`);
  }
}

/** The value as the kernel prints it ("[always] madvise never" → "always"). */
function parseRead(text: string): string {
  const t = text.trim();
  const sel = /\[([^\]]+)\]/.exec(t);
  return sel ? sel[1]! : t;
}

/** The current values of these settings, as read back. */
export function readSysctls(keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = parseRead(fs.readFileSync(SYSCTLS[k]!.path, 'utf8'));
  return out;
}

/** Absolute values: `"+N"` becomes `other + N` (the process's VMAs outside the arena). */
export function resolveSysctls(
  want: Record<string, SysctlValue>,
  other: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) {
    const rel = typeof v === 'string' ? RELATIVE.exec(v) : null;
    out[k] = rel ? String(other + Number(rel[1])) : String(v);
  }
  return out;
}

/**
 * Writes the settings in order; on a failure the ones already written stay (the caller
 * restores). Returns the error text of the first failure, or null.
 */
export function writeSysctls(values: Record<string, string>): string | null {
  for (const [k, v] of Object.entries(values)) {
    try {
      fs.writeFileSync(SYSCTLS[k]!.path, v);
    } catch (e) {
      return `cannot set ${k} = ${v}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
    }
  }
  return null;
}

/** The probe as the model must see it once these settings (as read back) are in force. */
export function probeWithSysctls(p: ProbeResult, read: Record<string, string>): ProbeResult {
  const out: ProbeResult = { ...p, thp: { ...p.thp } };
  for (const [k, v] of Object.entries(read)) {
    if (k === 'vm.max_map_count') out.maxMapCount = Number(v);
    else if (k === 'vm.overcommit_memory') out.overcommitMemory = Number(v);
    else if (k === 'transparent_hugepage/enabled') out.thp.enabled = v;
  }
  return out;
}
