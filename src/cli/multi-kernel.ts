/**
 * `validate --kernel A --kernel B …`: the same validate run on each kernel (`host` is the
 * running one, the others in vm guests, one after the other), merged by kernel release.
 * validate.ts only adds the option and hands over here.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Table from 'cli-table3';
import { tableStyle } from './color.js';
import type { Command } from 'commander';
import { cacheRoot } from '../vm/cache.js';
import { VmInputError } from '../vm/errors.js';
import { ensureKernel } from '../vm/fetch.js';
import { CLI_MAIN, cliJob, GUEST_FAILED_EXIT, guestFailureText } from '../vm/guest.js';
import { runVm, type Accel } from '../vm/qemu.js';
import type { ScenarioResult } from '../scenario/execute.js';
import { formatKtap } from '../scenario/report/ktap.js';
import { planTraceLines } from '../scenario/report/plan-summary.js';
import { counts, type RunReport } from '../scenario/report/types.js';
import { checkHostTools, type GuestOptions } from './vm.js';
import { commandArgs, GUEST_OPTIONS, stripOptions } from './argv.js';

/** validate sets the inner run's output itself and merges the reports. */
export const OUTER_OPTIONS: Record<string, boolean> = {
  ...GUEST_OPTIONS,
  '--format': true,
  '-o': true,
  '--out': true,
};

/** Per-scenario timeout for validate under TCG, where each worker start alone takes ~20 s. */
export const TCG_SCENARIO_TIMEOUT_MS = 120_000;

export interface KernelRun {
  kernel: string;
  release: string;
  accel: Accel | 'host';
  report: RunReport | null;
  /** Why there is no report (the guest failed, the inner command crashed). */
  failure?: string;
}

const discard = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

function readReport(file: string): RunReport | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunReport;
  } catch {
    return null;
  }
}

async function onHost(args: string[], file: string): Promise<KernelRun> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args, '--format', 'json', '-o', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const report = readReport(file);
  return {
    kernel: 'host',
    release: report?.kernel ?? os.release(),
    accel: 'host',
    report,
    ...(report ? {} : { failure: `validate on the host exited with ${code} and wrote no report` }),
  };
}

async function inGuest(
  kernel: string,
  args: string[],
  file: string,
  o: GuestOptions & { vmTimeout: number },
): Promise<KernelRun> {
  const k = ensureKernel(kernel, { ...o, log: (l) => process.stderr.write(`mremap-lab: ${l}\n`) });
  const hasTimeout = args.some((a) => a === '--timeout' || a.startsWith('--timeout='));
  const r = await runVm({
    kernel: k,
    job: (accel) =>
      cliJob(
        [
          ...args,
          '--format',
          'json',
          '-o',
          file,
          ...(accel === 'tcg' && !hasTimeout ? ['--timeout', String(TCG_SCENARIO_TIMEOUT_MS)] : []),
        ],
        { cwd: process.cwd(), out: path.dirname(file), color: false },
      ),
    mem: o.mem,
    cpus: o.cpus,
    timeoutMs: o.vmTimeout,
    accel: o.accel,
    stdout: discard(),
    stderr: process.stderr,
    keep: o.keep === true,
    log: (l) => process.stderr.write(`mremap-lab vm: ${l}\n`),
  });
  const report = r.status === 'exit' ? readReport(file) : null;
  const failure =
    r.status !== 'exit'
      ? guestFailureText(kernel, r)
      : report
        ? undefined
        : `validate in the ${kernel} guest exited with ${r.exitCode} and wrote no report`;
  return {
    kernel,
    release: report?.kernel ?? r.release ?? k.release,
    accel: r.accel,
    report: report ? { ...report } : null,
    ...(failure ? { failure } : {}),
  };
}

const ONE_LINE_MAX = 200;

/** One line per result that is not a pass or skip: what diverged, where (layouts folded). */
export function oneLine(r: ScenarioResult): string {
  const d = r.divergence;
  const f = r.expectationFailures?.[0];
  const text = d
    ? `step ${d.step + 1} ${d.call}: kernel ${d.kernel}, model ${d.model}${d.differences[0] ? `; ${d.differences[0]}` : ''}`
    : f
      ? `step ${f.step + 1} (${f.side}): ${f.message}`
      : (r.reason ?? r.status);
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > ONE_LINE_MAX ? `${flat.slice(0, ONE_LINE_MAX - 1)}…` : flat;
}

/** Scenario ids whose status is not the same on every kernel that has a report. */
export function differing(runs: KernelRun[]): { id: string; status: Record<string, string> }[] {
  const withReport = runs.filter((r) => r.report);
  const ids = new Set(withReport.flatMap((r) => r.report!.results.map((x) => x.id)));
  const rows: { id: string; status: Record<string, string> }[] = [];
  for (const id of ids) {
    const status: Record<string, string> = {};
    for (const r of withReport)
      status[r.release] = r.report!.results.find((x) => x.id === id)?.status ?? '-';
    if (new Set(Object.values(status)).size > 1) rows.push({ id, status });
  }
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

const label = (r: KernelRun) =>
  `${r.release} (${r.kernel === 'host' ? 'host' : `${r.kernel}, ${r.accel}`})`;

export function formatMultiPretty(runs: KernelRun[]): string {
  const out: string[] = [];
  for (const r of runs) {
    if (!r.report) {
      out.push(`kernel ${label(r)}: NO RESULT`, ...r.failure!.split('\n').map((l) => `  ${l}`));
      continue;
    }
    const c = counts(r.report);
    const parts = Object.entries(c).filter(
      ([k, n]) => n > 0 || k === 'pass' || k === 'fail' || k === 'skip',
    );
    out.push(
      `kernel ${label(r)}: ${parts.map(([k, n]) => `${n} ${k}`).join(', ')} in ${(r.report.durationMs / 1000).toFixed(1)} s (profile ${r.report.profile})`,
    );
    if (r.report.trace) out.push(...planTraceLines(r.report.trace).map((l) => `  ${l}`));
    for (const x of r.report.results.filter((x) => x.status !== 'pass' && x.status !== 'skip'))
      out.push(`  ${x.status} ${x.id}: ${oneLine(x)}`);
  }
  const rows = differing(runs);
  const releases = runs.filter((r) => r.report).map((r) => r.release);
  if (releases.length > 1) {
    if (rows.length === 0) out.push('every scenario has the same result on every kernel');
    else {
      const t = new Table({
        head: ['scenario', ...releases],
        style: tableStyle(),
      });
      for (const row of rows) t.push([row.id, ...releases.map((k) => row.status[k] ?? '-')]);
      out.push(`scenarios whose result differs between kernels (${rows.length}):`, t.toString());
    }
  }
  return out.join('\n');
}

export function formatMultiJson(runs: KernelRun[]): string {
  const kernels: Record<string, unknown> = {};
  for (const r of runs)
    kernels[r.release] = {
      kernel: r.kernel,
      accel: r.accel,
      ...(r.report ?? {}),
      ...(r.failure ? { failure: r.failure } : {}),
    };
  return JSON.stringify({ tool: 'mremap-lab 0.1.0', kernels, differing: differing(runs) }, null, 2);
}

/** KTAP with one subtest per kernel (Documentation/dev-tools/ktap.rst, nested tests). */
export function formatMultiKtap(runs: KernelRun[]): string {
  const out = ['KTAP version 1', `1..${runs.length}`];
  runs.forEach((r, i) => {
    if (r.report) {
      const [version, ...rest] = formatKtap(r.report).split('\n');
      out.push(`    ${version}`, `    # Subtest: ${r.release}`, ...rest.map((l) => `    ${l}`));
      const c = counts(r.report);
      const bad = c.fail + c.crash + c.timeout + c.error + r.report.loadErrors.length;
      out.push(`${bad ? 'not ok' : 'ok'} ${i + 1} ${r.release}`);
    } else {
      // Only SKIP/TODO are KTAP directives: "no result" is said as a diagnostic line.
      for (const l of r.failure!.split('\n')) out.push(`# ${l}`);
      out.push('# no result from this kernel', `not ok ${i + 1} ${r.release}`);
    }
  });
  return out.join('\n');
}

export interface MultiOptions extends GuestOptions {
  kernel: string[];
  vmTimeout: number;
  format: string;
  out?: string;
}

/**
 * Run validate once per kernel and print the merged report. Exit code: 3 when a kernel
 * gave no report (the vm machinery or the inner command broke), 1 for a divergence, else 0.
 */
export async function validateOnKernels(cmd: Command): Promise<void> {
  const o = cmd.opts<MultiOptions>();
  try {
    const rawArgs = commandArgs(cmd);
    if (o.format === 'junit') throw new VmInputError('--kernel reports as pretty, json or ktap');
    if (o.kernel.some((k) => k !== 'host')) checkHostTools();
    const args = stripOptions(rawArgs, OUTER_OPTIONS);
    const runsRoot = path.join(path.dirname(cacheRoot()), 'runs');
    fs.mkdirSync(runsRoot, { recursive: true });
    const dir = fs.mkdtempSync(path.join(runsRoot, 'validate-'));
    const runs: KernelRun[] = [];
    try {
      for (const [i, k] of o.kernel.entries()) {
        process.stderr.write(`mremap-lab validate: kernel ${k} (${i + 1}/${o.kernel.length})\n`);
        const file = path.join(dir, `report-${i}.json`);
        runs.push(k === 'host' ? await onHost(args, file) : await inGuest(k, args, file, o));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const text =
      o.format === 'json'
        ? formatMultiJson(runs)
        : o.format === 'ktap'
          ? formatMultiKtap(runs)
          : formatMultiPretty(runs);
    process.stdout.write(`${text}\n`);
    if (o.out) fs.writeFileSync(o.out, `${text}\n`);
    const diverged = runs.some((r) => {
      if (!r.report) return false;
      const c = counts(r.report);
      return c.fail + c.crash + c.timeout + c.error > 0;
    });
    process.exitCode = runs.some((r) => !r.report) ? GUEST_FAILED_EXIT : diverged ? 1 : 0;
  } catch (e) {
    if (!(e instanceof VmInputError)) throw e;
    process.stderr.write(`mremap-lab validate: ${e.message}\n`);
    process.exitCode = 2;
  }
}
