/**
 * bench --trace: the kernel's move_page_tables() walk for a case, traced on the untimed
 * observe call (never on a timed sample: the probes cost far more than a PTE move), beside
 * the model's predicted plan, so a report states "the kernel took the PTE path here" as a
 * fact, and the cost model is fitted only where the two agree.
 */
import type { TracerStatus } from '../kernel/trace/discover.js';
import { processInstance } from '../kernel/trace/observer.js';
import { parseTraceText, walksOf } from '../kernel/trace/parse.js';
import type { MovePlan } from '../model/page-tables.js';
import {
  comparePlans,
  kernelCounts,
  modelCounts,
  planPhrase,
  type LevelRow,
  type PlanCounts,
} from '../scenario/plan-verdict.js';

export interface CaseTrace {
  /** The model's plan in one phrase ("2 PMD (realigned)"; "nothing" for no walk). */
  model: string;
  /** The traced walks in one phrase, or "no move_page_tables() call". */
  kernel: string;
  /** differ: some level or the walk count differs; agree: every observable level agrees. */
  verdict: 'agree' | 'differ' | 'cannot verify';
  divergence: string | null;
  /** Per level, for the model's walk (empty when the model predicts no walk). */
  rows: LevelRow[];
  walks: number;
}

/** The trace run's header entry: how plans were traced, or why they could not be. */
export interface BenchTraceInfo {
  method: string;
  problem: string | null;
}

export function verdictOf(
  rows: readonly LevelRow[],
  divergence: string | null,
): CaseTrace['verdict'] {
  if (divergence !== null) return 'differ';
  return rows.length === 0 || rows.some((r) => r.verdict === 'agree') ? 'agree' : 'cannot verify';
}

/**
 * planPhrase with the pages of the PTE-level extents, since the bench's predicted-plan
 * column counts PTEs ("2 PTEs") where planPhrase counts extents ("1 PTE").
 */
export function withPages(c: PlanCounts): string {
  const p = planPhrase(c);
  if (!c.pteExtents) return p;
  const pages =
    c.ptePages === null ? '? pages' : `${c.ptePages} page${c.ptePages === 1 ? '' : 's'}`;
  return p.replace(
    /^(\d+) PTE\b/,
    (_m, n: string) => `${n} PTE extent${n === '1' ? '' : 's'} (${pages})`,
  );
}

/** Runs `call` (the untimed observe call, made by this process's main thread) traced. */
export function traceCall<T>(
  status: TracerStatus,
  plan: MovePlan | null,
  call: () => T,
): { value: T; trace: CaseTrace } {
  const obs = processInstance(status).observe(process.pid, call);
  const walks = walksOf(parseTraceText(obs.text), process.pid);
  const model = plan === null ? [] : [plan];
  const v = comparePlans(model, walks, status.targets);
  const rows = v.walks[0] ?? [];
  const kernel =
    walks.length === 0
      ? 'no move_page_tables() call'
      : walks.map((w) => withPages(kernelCounts(w, status.targets).counts)).join(', then ');
  return {
    value: obs.value,
    trace: {
      model: plan === null ? 'nothing' : withPages(modelCounts(plan)),
      kernel,
      verdict: verdictOf(rows, v.divergence),
      divergence: v.divergence,
      rows,
      walks: walks.length,
    },
  };
}

/** A table cell: "1 PTE + 1 PMD = plan", "4 PTE ≠ plan" or "nothing (cannot verify)". */
export function traceCell(t: CaseTrace | undefined): string {
  if (t === undefined) return '-';
  if (t.verdict === 'agree') return `${t.kernel} = plan`;
  if (t.verdict === 'differ') return `${t.kernel} ≠ plan`;
  return `${t.kernel} (cannot verify)`;
}
