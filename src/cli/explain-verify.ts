/**
 * `explain --verify`: the model's plan beside the traced one, per level, with a verdict.
 */
import type { ExplainResult } from '../model/explain.js';
import { formatTracerStatus } from './trace.js';
import type { VerifyResult } from '../scenario/verify-plan.js';

export function formatVerify(x: ExplainResult, v: VerifyResult): string {
  const lines = [`verify on kernel ${v.release} (model ${x.profile})`];
  if (v.status.problem !== null) {
    lines.push(formatTracerStatus(v.status));
  } else {
    lines.push(`method: ${v.status.method}`);
    lines.push(
      `rebuilt at +0x${v.shift.toString(16)} (a multiple of 1 GiB: PMD and PUD offsets kept); result ${v.result}`,
    );
    lines.push(`traced move_page_tables() calls: ${v.walks.length}, model: ${x.plans.length}`);
  }
  v.plans.forEach((p, i) => {
    lines.push(`plan ${i + 1}:`);
    lines.push(`  ${'level'.padEnd(32)} ${'model'.padEnd(6)} ${'kernel'.padEnd(6)} verdict`);
    for (const r of p.rows) {
      const verdict =
        r.verdict === 'cannot verify'
          ? `cannot verify: ${r.reason ?? ''}`
          : `${r.verdict}${r.evidence !== undefined ? ` (${r.evidence})` : ''}`;
      lines.push(`  ${r.level.padEnd(32)} ${r.model.padEnd(6)} ${r.kernel.padEnd(6)} ${verdict}`);
    }
    if (p.divergence !== null) lines.push(`  ${p.divergence}`);
  });
  return lines.join('\n');
}

/** Exit status: 1 when an observed level differs, else 0 (unverifiable levels are reported, not failed). */
export function verifyExitCode(v: VerifyResult): number {
  return v.plans.some((p) => p.rows.some((r) => r.verdict === 'differ')) ? 1 : 0;
}
