/** The body of a failure, shared by every reporter: both layouts, the step (0-based, as `$.steps[i]`), the explain. */
import type { ScenarioResult } from '../execute.js';
import { planRowLines } from './plan-summary.js';

export function failureDetail(r: ScenarioResult): string[] {
  const out: string[] = [];
  if (r.reason) out.push(r.reason);
  const d = r.divergence;
  if (d) {
    out.push(`divergence at step ${d.step}: ${d.call}`);
    out.push(`  kernel returned ${d.kernel}; model returned ${d.model}`);
    for (const x of d.differences) out.push(`  ${x}`);
    const plan = r.planChecks?.find((c) => c.step === d.step && c.divergence !== null);
    plan?.walks.forEach((rows, i) => {
      out.push(
        `plan, walk ${i + 1} of ${plan.walks.length}:`,
        ...planRowLines(rows).map((l) => `  ${l}`),
      );
    });
    out.push(
      'kernel layout:',
      ...indent(d.kernelLayout),
      'model layout:',
      ...indent(d.modelLayout),
    );
    if (d.explain) out.push('model decision path:', ...indent(d.explain));
  }
  for (const f of r.expectationFailures ?? []) out.push(`step ${f.step} (${f.side}): ${f.message}`);
  if (!d && (r.expectationFailures?.length ?? 0) > 0) {
    if (r.kernelLayout) out.push('kernel layout:', ...indent(r.kernelLayout));
    if (r.modelLayout) out.push('model layout:', ...indent(r.modelLayout));
  }
  return out;
}

function indent(s: string): string[] {
  return s.split('\n').map((l) => `  ${l}`);
}
