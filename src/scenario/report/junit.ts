import type { RunReport } from './types.js';
import { failureDetail } from './detail.js';
import { planTraceLines } from './plan-summary.js';

/** XML 1.0 forbids most control characters even escaped; drop them. */
function esc(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) continue;
    out +=
      ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '"' ? '&quot;' : ch;
  }
  return out;
}

export function formatJunit(r: RunReport): string {
  const failures = r.results.filter((x) => x.status === 'fail').length;
  const errors =
    r.results.filter((x) => ['crash', 'timeout', 'error'].includes(x.status)).length +
    r.loadErrors.length;
  const skipped = r.results.filter((x) => x.status === 'skip').length;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mremap-lab" tests="${r.results.length + r.loadErrors.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${(r.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="validate" tests="${r.results.length + r.loadErrors.length}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
    `    <properties><property name="kernel" value="${esc(r.kernel)}"/><property name="profile" value="${esc(r.profile)}"/><property name="traits" value="${esc(r.traits)}"/>${r.notRun ? `<property name="interrupted-not-run" value="${esc(r.notRun.join(' '))}"/>` : ''}${r.trace ? `<property name="plan-trace" value="${esc(planTraceLines(r.trace).join('\n'))}"/>` : ''}</properties>`,
  ];
  for (const x of r.results) {
    // Grouped by the id's family (align-, errno-, merge- …): the source is a citation,
    // free text, and no class name.
    const open = `    <testcase classname="mremap-lab.${esc(x.id.split('-')[0] || 'scenario')}" name="${esc(x.id)}" time="${(x.durationMs / 1000).toFixed(3)}">`;
    if (x.status === 'pass') out.push(open.replace(/>$/, '/>'));
    else if (x.status === 'skip')
      out.push(open, `      <skipped message="${esc(x.reason ?? '')}"/>`, '    </testcase>');
    else {
      const tag = x.status === 'fail' ? 'failure' : 'error';
      out.push(
        open,
        `      <${tag} type="${x.status}" message="${esc(x.reason ?? x.divergence?.differences[0] ?? x.status)}">${esc(failureDetail(x).join('\n'))}</${tag}>`,
        '    </testcase>',
      );
    }
  }
  for (const e of r.loadErrors) {
    out.push(
      `    <testcase classname="mremap-lab.input" name="${esc(e.file)}">`,
      `      <error type="input" message="${esc(`${e.path}: ${e.message}`)}"/>`,
      '    </testcase>',
    );
  }
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n');
}
