/**
 * `mremap-lab trace`: what this kernel lets the plan observer see (docs/trace.md).
 */
import type { Command } from 'commander';
import { native } from '../native.js';
import { discoverTracer, type TracerStatus } from '../kernel/trace/discover.js';
import { probe } from '../kernel/probe.js';
import { resolveProfile } from '../scenario/model-config.js';
import { formatMatrix, runMatrix } from '../scenario/trace-matrix.js';
import { addKernelOption, runOnKernels } from './kernel-option.js';

const tri = (v: boolean | null): string => (v === null ? 'unknown' : v ? 'yes' : 'no');

export function formatTracerStatus(s: TracerStatus): string {
  const lines = [
    `kernel ${s.release}`,
    `tracefs: ${s.tracefs ?? 'none'}`,
    `lockdown: ${s.lockdown ?? 'unknown (no /sys/kernel/security/lockdown)'}`,
    `kernel.kptr_restrict: ${s.kptrRestrict ?? 'unknown'}`,
    `available_filter_functions: ${s.filterFunctions}`,
    `kprobe_events: ${s.kprobeEvents}`,
    'function            symbol                  kallsyms  ftrace  kprobe',
  ];
  for (const t of s.targets) {
    lines.push(
      `${t.fn.padEnd(19)} ${(t.symbol ?? '-').padEnd(23)} ${tri(t.inKallsyms).padEnd(9)} ${tri(t.inFilterFunctions).padEnd(7)} ${t.kprobe}${t.kprobe === 'ok' && !t.withArgs ? ' (counts only, no arguments)' : ''}`,
    );
  }
  lines.push(s.problem === null ? `method: ${s.method}` : `cannot trace: ${s.problem}`);
  return lines.join('\n');
}

export function registerTrace(program: Command): void {
  const trace = program
    .command('trace')
    .description('what the move_page_tables() observer can see on this kernel');
  trace
    .command('status')
    .description(
      'tracefs, kallsyms and kprobe_events per traced function (creates and removes test probes)',
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const s = discoverTracer(native.unameRelease());
      process.stdout.write(
        opts.json === true ? `${JSON.stringify(s, null, 2)}\n` : `${formatTracerStatus(s)}\n`,
      );
    });
  const matrix = trace
    .command('matrix')
    .description("mremap_test.c's alignment matrix: the model's plan beside the traced one")
    .option('--profile <name>', 'model profile, or auto (picked from this kernel)', 'auto')
    .option('--json', 'print JSON')
    .action(async (opts: { profile: string; json?: boolean; kernel?: string[] }, cmd: Command) => {
      if (opts.kernel !== undefined) return runOnKernels(cmd);
      let picked;
      try {
        picked = resolveProfile(opts.profile, probe());
      } catch (e) {
        return cmd.error(`trace matrix: --profile: ${(e as Error).message}`, { exitCode: 2 });
      }
      const status = discoverTracer(native.unameRelease());
      const rows = runMatrix(picked.profile, status);
      process.stdout.write(
        opts.json === true
          ? `${JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2)}\n`
          : `${formatMatrix(rows, status, picked.profile.name)}\n`,
      );
      process.exitCode = rows.some((r) => r.verdict === 'differ') ? 1 : 0;
    });
  addKernelOption(matrix);
}
