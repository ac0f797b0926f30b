/**
 * KTAP (Documentation/dev-tools/ktap.rst): version line, plan, one result line per test.
 * Held to what tools/testing/kunit/kunit_parser.py accepts: every line that is not the
 * version, the plan or a result is a "# " diagnostic (a bare line is dropped as unknown),
 * the only directive is "# SKIP reason" (a failure is plain "not ok"; its kind goes in the
 * diagnostics before it), and a name holds no '#', which would start a directive. The
 * totals line has kunit's shape (lib/kunit/test.c: kunit_print_test_stats).
 */
import type { RunReport } from './types.js';
import { failureDetail } from './detail.js';
import { planTraceLines } from './plan-summary.js';

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const testName = (s: string) => oneLine(s).replace(/[#\s]/g, '_') || '_';

/** Diagnostic lines: each physical line of each text prefixed with "# ", blank ones dropped. */
function diagnostics(texts: string[]): string[] {
  return texts
    .flatMap((t) => t.split('\n'))
    .filter((l) => l.trim() !== '')
    .map((l) => `# ${l.trimEnd()}`);
}

export function formatKtap(r: RunReport): string {
  const out = [
    'KTAP version 1',
    ...diagnostics([
      `mremap-lab: kernel ${r.kernel}, model ${r.profile}, traits ${r.traits}`,
      ...(r.trace ? planTraceLines(r.trace) : []),
    ]),
  ];
  const total = r.results.length + r.loadErrors.length;
  out.push(`1..${total}`);
  let n = 0;
  let pass = 0;
  let skip = 0;
  for (const x of r.results) {
    n++;
    if (x.status === 'skip') {
      skip++;
      out.push(`ok ${n} ${testName(x.id)} # SKIP ${oneLine(x.reason ?? '')}`.trimEnd());
    } else if (x.status === 'pass') {
      pass++;
      out.push(`ok ${n} ${testName(x.id)}`);
    } else {
      out.push(...diagnostics([`${x.id}: ${x.status}`, ...failureDetail(x)]));
      out.push(`not ok ${n} ${testName(x.id)}`);
    }
  }
  for (const e of r.loadErrors) {
    n++;
    out.push(
      ...diagnostics([`input error: ${e.file}${e.path ? ` at ${e.path}` : ''}: ${e.message}`]),
    );
    out.push(`not ok ${n} ${testName(e.file.split('/').pop() ?? e.file)}`);
  }
  if (r.notRun)
    out.push(
      ...diagnostics([`interrupted (SIGINT): ${r.notRun.length} not run: ${r.notRun.join(', ')}`]),
    );
  out.push(`# Totals: pass:${pass} fail:${total - pass - skip} skip:${skip} total:${total}`);
  return out.join('\n');
}
