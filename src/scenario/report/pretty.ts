import pc from 'picocolors';
type Colors = ReturnType<typeof pc.createColors>;
import { counts, type RunReport } from './types.js';
import { failureDetail } from './detail.js';
import { planTraceLines } from './plan-summary.js';

const MARK = {
  pass: (c: Colors) => c.green('PASS'),
  fail: (c: Colors) => c.red('FAIL'),
  skip: (c: Colors) => c.yellow('SKIP'),
  crash: (c: Colors) => c.red('CRASH'),
  timeout: (c: Colors) => c.red('TIMEOUT'),
  error: (c: Colors) => c.red('ERROR'),
};

/** Plain text unless the caller passes a colour palette (the CLI does on a terminal). */
export function formatPretty(r: RunReport, c: Colors = pc.createColors(false)): string {
  const lines: string[] = [
    `mremap-lab validate: kernel ${r.kernel}, model ${r.profile} (${r.profileReason})`,
    `traits: ${r.traits}`,
    ...(r.trace ? planTraceLines(r.trace) : []),
    '',
  ];
  for (const e of r.loadErrors)
    lines.push(`${c.red('INPUT')} ${e.file}${e.path ? ` at ${e.path}` : ''}: ${e.message}`);
  for (const x of r.results) {
    const tail =
      x.status === 'skip'
        ? c.dim(` — ${x.reason ?? ''}`)
        : c.dim(` (${x.durationMs.toFixed(0)} ms)`);
    lines.push(`${MARK[x.status](c)} ${x.id}: ${x.title}${tail}`);
    if (x.status !== 'pass' && x.status !== 'skip') {
      lines.push(...failureDetail(x).map((l) => `    ${l}`), `    source: ${x.source}`);
    }
  }
  if (r.notRun)
    lines.push(
      '',
      `${c.red('INTERRUPTED')} (SIGINT): ${r.notRun.length} not run: ${r.notRun.join(', ') || 'none'}`,
    );
  const n = counts(r);
  lines.push(
    '',
    `${n.pass} passed, ${n.fail + n.crash + n.timeout + n.error} failed, ${n.skip} skipped` +
      `${r.loadErrors.length ? `, ${r.loadErrors.length} not loaded` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  return lines.join('\n');
}
