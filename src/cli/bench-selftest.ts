/**
 * `mremap-lab bench --beside-selftest DIR`: builds the kernel's mremap_test from DIR, runs it
 * and the `selftest` preset in turns, and prints per case both medians, the ratio with its
 * spread and a verdict (src/bench/beside-selftest.ts).
 */
import os from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { tableStyle } from './color.js';
import { chooseCases, runBesideSelftest, type CaseVerdict } from '../bench/beside-selftest.js';
import { formatNs } from '../bench/compare.js';
import { buildSelftest, selftestSourceTop } from '../bench/selftest-build.js';

export interface BesideCliOptions {
  besideSelftest: string;
  pairs: number;
  cases?: string;
  samples?: number;
  warmup?: number;
  pin?: number;
  out?: string;
}

export function verdictTable(rows: readonly CaseVerdict[]): string {
  const t = new Table({
    head: ['selftest case', 'pairs', 'selftest', 'bench', 'ratio', 'spread', 'verdict'],
    style: tableStyle(),
  });
  for (const r of rows)
    t.push([
      r.name,
      r.pairs,
      formatNs(r.selftestMedian),
      formatNs(r.benchMedian),
      r.ratio.toFixed(3),
      `${r.spread[0].toFixed(3)}–${r.spread[1].toFixed(3)}`,
      r.verdict,
    ]);
  let out = t.toString();
  for (const r of rows) if (r.why) out += `\n  ${r.name}: ${r.why}`;
  return out;
}

export async function besideSelftestAction(o: BesideCliOptions): Promise<void> {
  const cases = chooseCases(o.cases);
  const note = (m: string) => process.stderr.write(`${m}\n`);
  note(`finding tools/testing/selftests/mm/mremap_test.c in ${o.besideSelftest}`);
  const top = selftestSourceTop(o.besideSelftest);
  const binary = buildSelftest(top);
  note(`built ${binary} from ${top}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = o.out ?? path.join('bench-results', `beside-selftest-${stamp}`);
  const loadBefore = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const rows = await runBesideSelftest({
    binary,
    pairs: o.pairs,
    samples: o.samples ?? 5,
    warmup: o.warmup ?? 1,
    cases,
    outDir,
    pin: o.pin ?? null,
    command: process.argv,
    onNote: note,
  });
  process.stdout.write(`${verdictTable(rows)}\n`);
  note(
    `ratio = bench median / selftest shot, per pair (median over ${o.pairs} pairs; spread = lowest–highest pair). Raw outputs in ${outDir}`,
  );
  // Figures mean little without the load they were taken under (issue 16).
  note(
    `load average before: ${loadBefore}; after: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}
