import pc from 'picocolors';
import { counts, type RunReport } from './types.js';
import { failureDetail } from './detail.js';

const MARK = {
  pass: () => pc.green('PASS'),
  fail: () => pc.red('FAIL'),
  skip: () => pc.yellow('SKIP'),
  crash: () => pc.red('CRASH'),
  timeout: () => pc.red('TIMEOUT'),
  error: () => pc.red('ERROR'),
};

export function formatPretty(r: RunReport): string {
  const lines: string[] = [
    `mremap-lab validate: kernel ${r.kernel}, model ${r.profile} (${r.profileReason})`,
    `traits: ${r.traits}`,
    '',
  ];
  for (const e of r.loadErrors)
    lines.push(`${pc.red('INPUT')} ${e.file}${e.path ? ` at ${e.path}` : ''}: ${e.message}`);
  for (const x of r.results) {
    const tail =
      x.status === 'skip'
        ? pc.dim(` — ${x.reason ?? ''}`)
        : pc.dim(` (${x.durationMs.toFixed(0)} ms)`);
    lines.push(`${MARK[x.status]()} ${x.id}: ${x.title}${tail}`);
    if (x.status !== 'pass' && x.status !== 'skip') {
      lines.push(...failureDetail(x).map((l) => `    ${l}`), `    source: ${x.source}`);
    }
  }
  const c = counts(r);
  lines.push(
    '',
    `${c.pass} passed, ${c.fail + c.crash + c.timeout + c.error} failed, ${c.skip} skipped` +
      `${r.loadErrors.length ? `, ${r.loadErrors.length} not loaded` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  return lines.join('\n');
}
