/**
 * Which CPUs `--pin` may name: the calling thread's allowed set (`Cpus_allowed_list` in
 * /proc/self/status, what sched_getaffinity returns). sched_setaffinity fails with EINVAL
 * for a mask with no allowed, online CPU (kernel/sched/core.c __sched_setaffinity), so a CPU
 * outside this set is refused before any work instead of being recorded as a pin.
 */
import fs from 'node:fs';

/** glibc's cpu_set_t holds CPUs 0..1023. */
export const CPU_SETSIZE = 1024;

/** "0-3,8,10-11" → [0, 1, 2, 3, 8, 10, 11]. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(list)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

export function allowedCpus(status = fs.readFileSync('/proc/self/status', 'utf8')): number[] {
  const m = /^Cpus_allowed_list:\s*(\S*)\s*$/m.exec(status);
  if (!m) throw new Error('/proc/self/status has no Cpus_allowed_list');
  return parseCpuList(m[1]!);
}

/** [0, 1, 2, 3, 8] → "0-3,8". */
export function formatCpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(j === i ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** null when `cpu` may be pinned to, else why not (for the usage error). */
export function pinProblem(cpu: number, allowed: readonly number[] = allowedCpus()): string | null {
  if (allowed.includes(cpu)) return null;
  return `--pin ${cpu}: this process may only run on CPUs ${formatCpuList(allowed)} (Cpus_allowed_list in /proc/self/status); choose one of them`;
}
