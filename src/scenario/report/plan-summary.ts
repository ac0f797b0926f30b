/**
 * validate --trace in a report: how the plans were observed (or why they could not be),
 * and per level how many traced walks agreed, differed or could not be verified, so that
 * "no plan divergence" is never read where nothing was observed.
 */
import type { TracerStatus } from '../../kernel/trace/discover.js';
import type { ScenarioResult } from '../execute.js';
import type { LevelRow } from '../plan-verdict.js';

export interface LevelTally {
  level: string;
  agree: number;
  differ: number;
  cannotVerify: number;
  /** The distinct reasons a level could not be verified. */
  reasons: string[];
}

export interface PlanTraceReport {
  /** How the kernel's plans were observed ('none' when they were not). */
  method: string;
  /** Why the plan cannot be verified on this kernel, or null. */
  problem: string | null;
  /** mremap steps where either side made a move_page_tables() call. */
  steps: number;
  /** Walks compared (the model's count; a missing or extra walk is in `differ`). */
  walks: number;
  /** Walks whose every observable level agrees. */
  agree: number;
  /** Walks with a level that differs, or steps whose walk counts differ. */
  differ: number;
  levels: LevelTally[];
}

export function summarizePlans(
  status: Pick<TracerStatus, 'method' | 'problem'>,
  results: readonly ScenarioResult[],
): PlanTraceReport {
  const out: PlanTraceReport = {
    method: status.method,
    problem: status.problem,
    steps: 0,
    walks: 0,
    agree: 0,
    differ: 0,
    levels: [],
  };
  const tally = (row: LevelRow): void => {
    let t = out.levels.find((x) => x.level === row.level);
    if (t === undefined) {
      t = { level: row.level, agree: 0, differ: 0, cannotVerify: 0, reasons: [] };
      out.levels.push(t);
    }
    if (row.verdict === 'agree') t.agree++;
    else if (row.verdict === 'differ') t.differ++;
    else {
      t.cannotVerify++;
      const why = row.reason ?? 'unknown';
      if (!t.reasons.includes(why)) t.reasons.push(why);
    }
  };
  for (const r of results) {
    for (const c of r.planChecks ?? []) {
      out.steps++;
      out.walks += c.walks.length;
      for (const rows of c.walks) {
        rows.forEach(tally);
        if (c.divergence === null) out.agree++;
      }
      if (c.divergence !== null) out.differ += Math.max(1, c.walks.length);
    }
  }
  return out;
}

/** The report's plan lines (pretty, and KTAP diagnostics). */
export function planTraceLines(t: PlanTraceReport): string[] {
  if (t.problem !== null)
    return [
      `plan trace: the move plan cannot be verified on this kernel: ${t.problem} (mremap-lab trace status says what is missing)`,
    ];
  const lines = [
    `plan trace: ${t.method}`,
    `plans: ${t.steps} mremap step${t.steps === 1 ? '' : 's'} with a move, ${t.walks} move_page_tables() walk${t.walks === 1 ? '' : 's'}: ${t.agree} agree on every observable level, ${t.differ} differ`,
  ];
  for (const l of t.levels) {
    const cv =
      l.cannotVerify > 0 ? `, ${l.cannotVerify} cannot verify (${l.reasons.join('; ')})` : '';
    lines.push(`  ${l.level}: ${l.agree} agree, ${l.differ} differ${cv}`);
  }
  return lines;
}

/** A step's rows under its divergence: "PMD entries (move_normal_pmd): model 2, kernel 1 — differ". */
export function planRowLines(rows: readonly LevelRow[]): string[] {
  return rows.map(
    (r) =>
      `${r.level}: model ${r.model}, kernel ${r.kernel} — ${r.verdict}${r.reason ? `: ${r.reason}` : ''}${r.evidence ? ` (${r.evidence})` : ''}`,
  );
}
