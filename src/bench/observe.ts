/**
 * The layout the kernel leaves after one call of the case, observed in this process (not
 * timed): the same C++ setup as the samples (timing.cc, mode "observe"), then a snapshot of
 * the region, compared with what the model's plan expects.
 */
import { snapshot } from '../kernel/snapshot.js';
import type { CaseLayout } from './layout.js';
import type { PredictedPlan } from './plan.js';

export interface ObservedLayout {
  /** The address mremap returned. */
  result: string;
  /** VMAs in the case's region after the call, as [start, end) offsets from the result. */
  vmas: { start: string; end: string; prot: string; kind: string }[];
  /** Present pages in [result, result + min(old, new)). */
  present: number;
  /** Of those, pages mapped by a THP (a PMD leaf or a large anon folio). */
  thpPages: number;
  /** The VMA at the result starts below it: it merged with the neighbour. */
  mergedBelow: boolean;
  /** Where the observation differs from the model's expectation; empty when it agrees. */
  mismatches: string[];
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;

export function observeLayout(
  result: bigint,
  layout: CaseLayout,
  plan: PredictedPlan,
  length: number,
): ObservedLayout {
  const pid = process.pid;
  const snap = snapshot(pid, BigInt(layout.regionLo), BigInt(layout.regionHi), { pages: false });
  const pages = snapshot(pid, result, result + BigInt(length), { pages: true, tags: false });
  let present = 0;
  let thpPages = 0;
  for (const p of pages.pages) {
    if (!p.present) continue;
    present++;
    if (p.thp) thpPages++;
  }
  const home = snap.vmas.find((v) => v.start <= result && result < v.end);
  const mergedBelow = home !== undefined && home.start < result;
  const mismatches: string[] = [];
  if (present !== plan.expect.present)
    mismatches.push(`present pages: model ${plan.expect.present}, kernel ${present}`);
  if (thpPages !== plan.expect.thpPages)
    mismatches.push(`THP pages: model ${plan.expect.thpPages}, kernel ${thpPages}`);
  if (mergedBelow !== plan.expect.mergedBelow)
    mismatches.push(
      `merge with the VMA below: model ${plan.expect.mergedBelow ? 'yes' : 'no'}, kernel ${mergedBelow ? 'yes' : 'no'}`,
    );
  const rel = (a: bigint): string => {
    const d = a - result;
    return d < 0n ? `-${hex(-d)}` : `+${hex(d)}`;
  };
  return {
    result: hex(result),
    vmas: snap.vmas.map((v) => ({
      start: rel(v.start),
      end: rel(v.end),
      prot: v.prot,
      kind: v.kind,
    })),
    present,
    thpPages,
    mergedBelow,
    mismatches,
  };
}
