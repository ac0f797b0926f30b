/**
 * KTAP (Documentation/dev-tools/ktap.rst): version line, plan, one result line per test
 * with "# SKIP reason" directives, diagnostics as "# " lines before the result, so the
 * suite can run as a kselftest under kernel CI.
 */
import type { RunReport } from './types.js';
import { failureDetail } from './detail.js';

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

export function formatKtap(r: RunReport): string {
  const out = [
    'KTAP version 1',
    `# mremap-lab: kernel ${r.kernel}, model ${r.profile}, traits ${r.traits}`,
  ];
  const total = r.results.length + r.loadErrors.length;
  out.push(`1..${total}`);
  let n = 0;
  for (const x of r.results) {
    n++;
    if (x.status === 'skip') {
      out.push(`ok ${n} ${x.id} # SKIP ${oneLine(x.reason ?? '')}`);
    } else if (x.status === 'pass') {
      out.push(`ok ${n} ${x.id}`);
    } else {
      for (const l of failureDetail(x)) out.push(`# ${l}`);
      out.push(`not ok ${n} ${x.id} # ${x.status.toUpperCase()}`);
    }
  }
  for (const e of r.loadErrors) {
    n++;
    out.push(`# ${e.file}${e.path ? ` at ${e.path}` : ''}: ${oneLine(e.message)}`);
    out.push(`not ok ${n} ${e.file.split('/').pop() ?? e.file} # input error`);
  }
  const fail =
    r.results.filter((x) => x.status !== 'pass' && x.status !== 'skip').length +
    r.loadErrors.length;
  const skip = r.results.filter((x) => x.status === 'skip').length;
  out.push(
    `# Totals: pass:${r.results.length - fail + r.loadErrors.length - skip} fail:${fail} xfail:0 xpass:0 skip:${skip} error:0`,
  );
  return out.join('\n');
}
