/** The decision trace of one operation: the ordered checks it ran and what each decided. */
import { err, type Err } from '../space/result.js';
import { errnoName } from '../space/errno.js';
import type { MovePlan } from './page-tables.js';

export interface TraceEntry {
  /** `function: condition`, e.g. 'check_mremap_params: flags & ~allowed'. */
  step: string;
  /** 'pass', an errno name ('EINVAL'), or an outcome word ('ok', 'merged', 'split', …). */
  result: string;
  detail?: string;
}

/** One neighbour pair a merge looked at: [lower) and [upper) touch; merged or not, and why. */
export interface MergeRecord {
  /** The kernel function that asked (copy_vma, mmap_region, vma_modify, vma_merge_extend, …). */
  caller: string;
  lower: { start: number; end: number };
  upper: { start: number; end: number };
  merged: boolean;
  why: string;
}

export interface OpTrace {
  op: string;
  entries: TraceEntry[];
  /** One page-table move plan per move_page_tables() call. */
  plans: MovePlan[];
  /** Each neighbour pair a merge attempt looked at: merged or not, and why. */
  merges: MergeRecord[];
}

export class Tracer {
  current: OpTrace = { op: '', entries: [], plans: [], merges: [] };
  constructor(public enabled: boolean) {}

  begin(op: string): void {
    this.current = { op, entries: [], plans: [], merges: [] };
  }

  /** Records a check; returns the error when it failed, else null. */
  check(step: string, failed: boolean, errno: number): Err | null {
    if (this.enabled)
      this.current.entries.push({ step, result: failed ? errnoName(errno) : 'pass' });
    return failed ? err(errno) : null;
  }

  /** Records an error raised by a step (not a simple predicate). */
  fail(step: string, errno: number, detail?: string): Err {
    if (this.enabled) {
      const e: TraceEntry = { step, result: errnoName(errno) };
      if (detail !== undefined) e.detail = detail;
      this.current.entries.push(e);
    }
    return err(errno);
  }

  note(step: string, result = 'ok', detail?: string): void {
    if (!this.enabled) return;
    const e: TraceEntry = { step, result };
    if (detail !== undefined) e.detail = detail;
    this.current.entries.push(e);
  }

  merge(m: MergeRecord): void {
    if (this.enabled) this.current.merges.push(m);
  }

  plan(p: MovePlan): void {
    if (this.enabled) this.current.plans.push(p);
  }
}

export function formatTrace(t: OpTrace): string {
  return t.entries
    .map((e) => `${e.step} → ${e.result}${e.detail !== undefined ? ` (${e.detail})` : ''}`)
    .join('\n');
}
