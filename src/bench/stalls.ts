/**
 * Host stalls and preemption, detected per sample instead of averaged in. The sampler reads
 * its own CPU time (CLOCK_THREAD_CPUTIME_ID) just outside the CLOCK_MONOTONIC bracket of
 * each call (native/timing.cc): a sample whose wall time exceeds that CPU time by more than
 * the rule allows was not running for part of the call — another task ran on its CPU, or the
 * vCPU was stopped and the guest accounts the steal (CONFIG_PARAVIRT_TIME_ACCOUNTING). Chosen
 * over /proc/stat steal because it is per sample and costs two syscalls outside the clock;
 * its limit: a host stall the guest does not account as steal looks like running time.
 */
import type { CaseRecord, StallInfo } from './results.js';

export type { StallInfo } from './results.js';

/** Slack for the clock reads' own skew (µs) and for IRQ time counted as the task's. */
export const STALL_SLACK_NS = 10_000;
export const STALL_SLACK_FRACTION = 0.02;
export const STALL_RULE = 'wall - CPU time > 10 us + 2% of wall';
/** More than this fraction of a case's samples stalled: its figures are not to be trusted. */
export const TOO_MANY_STALLS = 0.2;

export function stalledIndices(wall: readonly number[], cpu: readonly number[]): number[] {
  const out: number[] = [];
  wall.forEach((w, i) => {
    if (w - cpu[i]! > STALL_SLACK_NS + STALL_SLACK_FRACTION * w) out.push(i);
  });
  return out;
}

export function stallInfo(wall: readonly number[], cpu: readonly number[]): StallInfo {
  const indices = stalledIndices(wall, cpu);
  return { rule: STALL_RULE, count: indices.length, indices, cpuNs: [...cpu] };
}

/** The samples the statistics use: all but the stalled ones (all, if every one stalled). */
export function cleanSamples(r: Pick<CaseRecord, 'samples' | 'stalls'>): number[] {
  if (!r.stalls || r.stalls.count === 0) return r.samples;
  const bad = new Set(r.stalls.indices);
  const kept = r.samples.filter((_, i) => !bad.has(i));
  return kept.length ? kept : r.samples;
}

/** A warning when too many samples of a case stalled, else null. */
export function stallWarning(r: Pick<CaseRecord, 'id' | 'samples' | 'stalls'>): string | null {
  if (!r.stalls || r.samples.length === 0) return null;
  const f = r.stalls.count / r.samples.length;
  if (f <= TOO_MANY_STALLS) return null;
  return `${r.id}: ${r.stalls.count} of ${r.samples.length} samples stalled (${STALL_RULE}); its figures describe a busy machine`;
}
