/**
 * `mremap-lab bench`, `compare` and `report` (docs/benchmarks.md). Input errors (bad matrix or
 * results file, refused resume or comparison) exit 2 naming file, line and field; an
 * interrupted run exits 130 after telling how to resume; failed cases exit 1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { outDirProblem, outFileProblem } from '../out-path.js';
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import { colors as pc, tableStyle } from './color.js';
import { JsonInputError } from '../bench/jsonpos.js';
import { loadMatrix, MAX_SAMPLES, presetMatrix, PRESETS, type Matrix } from '../bench/matrix.js';
import { BenchInputError, runBench } from '../bench/run.js';
import { readResults, tornWarning, type CaseRecord, type ResultsFile } from '../bench/results.js';
import { CPU_SETSIZE, pinProblem } from '../bench/cpus.js';
import { describeFit, fitCostModel } from '../bench/costmodel.js';
import { planLabel } from '../bench/plan.js';
import {
  compareResults,
  CompareError,
  footer,
  formatNs,
  rowCells,
  toBenchstat,
  toMarkdown,
} from '../bench/compare.js';
import { buildReport } from '../bench/report.js';
import { addKernelOption } from './kernel-option.js';
import { startTracer } from '../kernel/trace/run.js';
import { native } from '../native.js';
import { traceCell } from '../bench/trace.js';
import { benchOnKernels } from './bench-kernels.js';
import { besideSelftestAction } from './bench-selftest.js';
import { caseId } from '../bench/types.js';
import { STALL_RULE, stallWarning } from '../bench/stalls.js';

/** Prints an input error and sets exit code 2; anything else is rethrown. */
function inputError(e: unknown): void {
  if (e instanceof JsonInputError || e instanceof BenchInputError || e instanceof CompareError) {
    process.stderr.write(`mremap-lab: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  throw e;
}

/**
 * A decimal integer in [min, max], checked while the options are parsed, before any file is
 * created: a value the sampler cannot hold (a Float64Array of --samples doubles, 8 GB at
 * 1e9) must not leave a header-only results file behind.
 */
function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        `${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')} (got ${v})`,
      );
    return n;
  };
}

/** readResults, with the torn-last-line warning on stderr. */
function readWarned(file: string): ResultsFile {
  const f = readResults(file);
  const w = tornWarning(f);
  if (w) process.stderr.write(`${w}\n`);
  return f;
}

function summaryTable(records: CaseRecord[]): string {
  const fit = fitCostModel(records);
  const resid = new Map(fit?.residuals.map((r) => [r.id, r]) ?? []);
  const traced = records.some((r) => r.trace !== undefined);
  const t = new Table({
    head: [
      'case',
      'status',
      'median',
      '95% CI',
      'MAD',
      'n',
      'outl.',
      'predicted plan',
      ...(traced ? ['traced plan'] : []),
      'fit',
    ],
    style: tableStyle(),
  });
  for (const r of records) {
    const s = r.stats;
    const f = resid.get(r.id);
    const status =
      r.status === 'ok'
        ? pc.green('ok')
        : r.status === 'unsupported'
          ? pc.yellow('unsupported')
          : pc.red('failed');
    const observed = r.observed?.mismatches.length ? pc.yellow(' (observed differs)') : '';
    t.push([
      r.id,
      status,
      s ? formatNs(s.median) : '-',
      s ? `${formatNs(s.ci95[0])}–${formatNs(s.ci95[1])}` : (r.reason ?? '').slice(0, 40),
      s ? formatNs(s.mad) : '-',
      String(s?.n ?? 0),
      s ? String(s.outliers.low + s.outliers.high) : '-',
      planLabel(r.plan) + observed,
      ...(traced
        ? [r.trace?.verdict === 'differ' ? pc.yellow(traceCell(r.trace)) : traceCell(r.trace)]
        : []),
      f
        ? f.flagged
          ? pc.yellow(`${(f.rel * 100).toFixed(0)}% ⚑`)
          : `${(f.rel * 100).toFixed(0)}%`
        : '-',
    ]);
  }
  let out = t.toString();
  out += `\n${describeFit(fit)}`;
  for (const r of fit?.residuals.filter((x) => x.flagged) ?? []) out += `\n  ⚑ ${r.id}: ${r.note}`;
  for (const r of records.filter((x) => x.trace?.divergence))
    out += `\n  ${r.id}: ${r.trace!.divergence}`;
  return out;
}

const IN_PROCESS_GONE =
  '--in-process is gone: timed samples run only in the forked single-threaded sampler, because in Node’s multi-threaded process every move pays TLB-shootdown IPIs (docs/benchmarks.md); `node scripts/bench-native.mjs` shows that effect without recording results';

/** How many samples a stall hit (excluded from the statistics), and the cases with too many. */
function stallSummary(records: readonly CaseRecord[]): string {
  const total = records.reduce((n, r) => n + r.samples.length, 0);
  const stalled = records.reduce((n, r) => n + (r.stalls?.count ?? 0), 0);
  let out = `stalled samples (${STALL_RULE}): ${stalled} of ${total}, excluded from the statistics\n`;
  for (const r of records) {
    const w = stallWarning(r);
    if (w) out += `warning: ${w}\n`;
  }
  return out;
}

interface BenchOpts {
  preset?: string;
  matrix?: string;
  samples?: number;
  warmup?: number;
  pin?: number;
  out?: string;
  resume?: boolean;
  retryFailed?: boolean;
  json?: boolean;
  inProcess?: boolean;
  verify: boolean;
  list?: boolean;
  kernel?: string[];
  besideSelftest?: string;
  pairs: number;
  cases?: string;
  trace?: boolean;
}

function resumeCommand(out: string): string {
  const args = process.argv.slice(2).filter((a) => a !== '--resume' && a !== '--retry-failed');
  const i = args.findIndex((a) => a === '--out' || a === '-o');
  if (i >= 0) args.splice(i, 2);
  return `mremap-lab ${[...args.filter((a) => !a.startsWith('--out=')), '--out', out, '--resume'].join(' ')}`;
}

export function registerBench(program: Command): void {
  const cmd = program
    .command('bench')
    .description(
      'time mremap() cases in C++ (one call per sample) and write a JSON-lines results file',
    )
    .addOption(new Option('--preset <name>', 'built-in matrix').choices(Object.keys(PRESETS)))
    .option('--matrix <file>', 'a matrix file (docs/bench-matrix.schema.json)')
    .option(
      '--samples <n>',
      'timed samples per case (default: the matrix’s)',
      intArg('--samples', 1, MAX_SAMPLES),
    )
    .option(
      '--warmup <n>',
      'discarded samples per case (default: the matrix’s)',
      intArg('--warmup', 0, MAX_SAMPLES),
    )
    .option(
      '--pin <cpu>',
      'sched_setaffinity the sampling process to this CPU (--beside-selftest: the selftest too)',
      intArg('--pin', 0, CPU_SETSIZE - 1),
    )
    .option('--out <file>', 'results file (default bench-results/<preset>-<time>.jsonl)')
    .option('--resume', 'complete an interrupted results file (--out) with the cases it lacks')
    .option('--retry-failed', 'with --resume: also rerun the cases recorded as failed')
    .option('--json', 'print the case records as JSON lines on stdout instead of the table')
    .addOption(new Option('--in-process').hideHelp())
    .option('--no-verify', 'skip the data check after each call')
    .option(
      '--trace',
      'trace each case’s page-table walk on one extra untimed call (kprobe events; root; docs/trace.md) and record it beside the predicted plan',
    )
    .option('--list', 'list the cases and exit')
    .option(
      '--beside-selftest <dir>',
      'build the kernel’s mremap_test from a source tree, tarball or linux-source .deb and run it in turns with --preset selftest',
    )
    .option(
      '--pairs <n>',
      'with --beside-selftest: selftest/bench pairs',
      intArg('--pairs', 1, 1000),
      5,
    )
    .option('--cases <regex>', 'with --beside-selftest: the selftest case names to run')
    .action(async (opts: BenchOpts, cmd: Command) => {
      if (opts.kernel && !opts.list) return benchOnKernels(cmd);
      try {
        if (opts.besideSelftest !== undefined) {
          if (
            opts.matrix ||
            (opts.preset && opts.preset !== 'selftest') ||
            opts.inProcess ||
            opts.resume ||
            opts.trace
          )
            throw new BenchInputError(
              '--beside-selftest runs the selftest preset in forked samplers: it takes no --matrix, other --preset, --in-process, --resume or --trace',
            );
          await besideSelftestAction({ ...opts, besideSelftest: opts.besideSelftest });
          return;
        }
        await benchAction(opts);
      } catch (e) {
        inputError(e);
      }
    });
  addKernelOption(cmd);
}

async function benchAction(opts: BenchOpts): Promise<void> {
  if (opts.inProcess) throw new BenchInputError(IN_PROCESS_GONE);
  if (opts.preset && opts.matrix) throw new BenchInputError('give --preset or --matrix, not both');
  const matrix: Matrix = opts.matrix
    ? loadMatrix(opts.matrix)
    : presetMatrix(opts.preset ?? 'quick');
  if (opts.list) {
    for (const c of matrix.cases) process.stdout.write(`${caseId(c)}\n`);
    return;
  }
  if (opts.resume && !opts.out)
    throw new BenchInputError('--resume needs --out FILE (the results file to complete)');
  if (opts.retryFailed && !opts.resume)
    throw new BenchInputError(
      '--retry-failed goes with --resume (it reruns the failed cases of --out)',
    );
  const pinWhy = opts.pin === undefined ? null : pinProblem(opts.pin);
  if (pinWhy) throw new BenchInputError(pinWhy);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const label = opts.preset ?? (opts.matrix ? path.basename(opts.matrix, '.json') : 'quick');
  const out = opts.out ?? path.join('bench-results', `${label}-${stamp}.jsonl`);
  if (opts.resume && !fs.existsSync(out))
    throw new BenchInputError(
      `--resume: ${out} does not exist; run without --resume to start it, or name the interrupted file`,
    );
  const outProblem = outFileProblem(out, { makeParent: true });
  if (outProblem) throw new BenchInputError(`cannot write --out ${out}: ${outProblem}`);
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: 'case {value}/{total} [{bar}] ETA {eta_formatted} {id}',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const t0 = Date.now();
  let startDone = 0;
  const traceRun = opts.trace ? startTracer(native.unameRelease()) : undefined;
  if (traceRun?.problem)
    process.stderr.write(
      `mremap-lab bench: --trace: the kernel's plan cannot be traced here: ${traceRun.problem}; the cases run without it\n`,
    );
  const result = await runBench({
    ...(traceRun ? { traceRun } : {}),
    matrix,
    out,
    resume: opts.resume ?? false,
    retryFailed: opts.retryFailed ?? false,
    onNote: (m) => process.stderr.write(`${m}\n`),
    samples: opts.samples ?? matrix.samples,
    warmup: opts.warmup ?? matrix.warmup,
    pin: opts.pin ?? null,
    isolated: true,
    noVerify: !opts.verify,
    command: process.argv,
    onStart: (total, already) => {
      startDone = already;
      bar?.start(total, already, { id: '' });
    },
    onCase: (r, pos, total) => {
      if (bar) bar.update(pos, { id: r.id });
      else {
        const done = pos - startDone;
        const eta = ((Date.now() - t0) / done) * (total - pos);
        const med = r.stats ? formatNs(r.stats.median) : r.status;
        process.stderr.write(
          `case ${pos}/${total} ETA ${(eta / 1000).toFixed(0)}s ${r.id}: ${med}\n`,
        );
      }
    },
  }).finally(() => traceRun?.stop());
  bar?.stop();
  const records = [...result.records].sort((a, b) => a.index - b.index);
  if (opts.json) for (const r of records) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`${summaryTable(records)}\n`);
  process.stderr.write(stallSummary(records));
  process.stderr.write(
    `${result.ran} cases run in ${((Date.now() - t0) / 1000).toFixed(1)} s; results in ${out}\n`,
  );
  if (result.interrupted) {
    process.stderr.write(
      `interrupted: ${records.length} of ${result.total} cases finished and saved.\nresume with: ${resumeCommand(out)}\n`,
    );
    process.exitCode = 130;
    return;
  }
  if (records.some((r) => r.status === 'failed')) process.exitCode = 1;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare two results files case by case (ratio of medians, CI, Mann–Whitney U)')
    .argument('<base>', 'results file A')
    .argument('<new>', 'results file B')
    .option('--threshold <pct>', 'smallest change that counts', '5%')
    .option('--mixed-accel', 'compare results measured under different CPUs (host, kvm, tcg)')
    .addOption(
      new Option('--format <fmt>', 'output format')
        .choices(['table', 'markdown', 'json', 'benchstat'])
        .default('table'),
    )
    .action((baseFile: string, newFile: string, opts: { threshold: string; format: string }) => {
      try {
        const m = /^(\d+(\.\d+)?)%?$/.exec(opts.threshold.trim());
        if (!m)
          throw new BenchInputError(
            `--threshold: expected a percentage like 5% (got ${opts.threshold})`,
          );
        const threshold = Number(m[1]) / 100;
        const a = readWarned(baseFile);
        const b = readWarned(newFile);
        const mixed = (opts as { mixedAccel?: boolean }).mixedAccel;
        const c = compareResults(a, b, threshold, mixed);
        if (opts.format === 'json') process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
        else if (opts.format === 'markdown') process.stdout.write(`${toMarkdown(c)}\n`);
        else if (opts.format === 'benchstat') process.stdout.write(`${toBenchstat(a, b)}\n`);
        else {
          const t = new Table({
            head: ['case', 'base', 'new', 'ratio', '95% CI', 'p (MWU)', 'verdict'],
            style: tableStyle(),
          });
          for (const r of c.rows) {
            const v =
              r.verdict === 'improved'
                ? pc.green(r.verdict)
                : r.verdict === 'regressed'
                  ? pc.red(r.verdict)
                  : r.verdict;
            t.push([...rowCells(r).slice(0, -1), v]);
          }
          process.stdout.write(`${t.toString()}\n${footer(c)}\n`);
          for (const u of c.unmatched) process.stdout.write(`  unmatched: ${u.id} (${u.why})\n`);
        }
      } catch (e) {
        inputError(e);
      }
    });
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report (SVG charts rendered with vega-lite)')
    .argument('<results...>', 'results files')
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .option('--svg <dir>', 'also write each chart as an SVG file into DIR')
    .action(async (files: string[], opts: { output: string; svg?: string }) => {
      try {
        const outProblem = outFileProblem(opts.output);
        if (outProblem) throw new BenchInputError(`cannot write -o ${opts.output}: ${outProblem}`);
        const svgProblem = opts.svg === undefined ? null : outDirProblem(opts.svg);
        if (svgProblem) throw new BenchInputError(`cannot write --svg ${opts.svg}: ${svgProblem}`);
        const results = files.map(readWarned);
        for (const r of results)
          if (r.cases.length === 0)
            throw new BenchInputError(
              `${r.file}: no case records, nothing to report (an interrupted run? complete it with bench --resume --out ${r.file})`,
            );
        const { html, charts } = await buildReport(results);
        fs.writeFileSync(opts.output, html);
        if (opts.svg) {
          for (const c of charts) fs.writeFileSync(path.join(opts.svg, `${c.name}.svg`), c.svg);
        }
        process.stderr.write(`wrote ${opts.output} (${charts.length} charts)\n`);
      } catch (e) {
        inputError(e);
      }
    });
}
