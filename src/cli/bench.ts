/**
 * `mremap-lab bench`, `compare` and `report` (docs/benchmarks.md). Input errors (bad matrix or
 * results file, refused resume or comparison) exit 2 naming file, line and field; an
 * interrupted run exits 130 after telling how to resume; failed cases exit 1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import { JsonInputError } from '../bench/jsonpos.js';
import { loadMatrix, presetMatrix, PRESETS, type Matrix } from '../bench/matrix.js';
import { BenchInputError, runBench } from '../bench/run.js';
import { readResults, type CaseRecord } from '../bench/results.js';
import { fitCostModel } from '../bench/costmodel.js';
import { planLabel } from '../bench/plan.js';
import {
  compareResults,
  CompareError,
  footer,
  formatNs,
  toBenchstat,
  toMarkdown,
} from '../bench/compare.js';
import { buildReport } from '../bench/report.js';
import { addKernelOption } from './kernel-option.js';
import { benchOnKernels } from './bench-kernels.js';
import { caseId } from '../bench/types.js';

/** Prints an input error and sets exit code 2; anything else is rethrown. */
function inputError(e: unknown): void {
  if (e instanceof JsonInputError || e instanceof BenchInputError || e instanceof CompareError) {
    process.stderr.write(`mremap-lab: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  throw e;
}

function intArg(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new BenchInputError(`${name} must be an integer ≥ ${min} (got ${v})`);
    return n;
  };
}

function summaryTable(records: CaseRecord[]): string {
  const fit = fitCostModel(records);
  const resid = new Map(fit?.residuals.map((r) => [r.id, r]) ?? []);
  const t = new Table({
    head: ['case', 'status', 'median', '95% CI', 'MAD', 'n', 'outl.', 'predicted plan', 'fit'],
    style: { head: ['cyan'], compact: true },
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
      f
        ? f.flagged
          ? pc.yellow(`${(f.rel * 100).toFixed(0)}% ⚑`)
          : `${(f.rel * 100).toFixed(0)}%`
        : '-',
    ]);
  }
  let out = t.toString();
  if (fit) {
    out +=
      `\ncost model (${fit.n} cases, rel. RMS ${(fit.rmsRel * 100).toFixed(1)}%): fixed ${fit.coef.fixed.toFixed(0)} ns` +
      ` + ${fit.coef.ptes.toFixed(2)} ns/PTE + ${fit.coef.pmds.toFixed(0)} ns/PMD + ${fit.coef.puds.toFixed(0)} ns/PUD` +
      ` + ${fit.coef.folios.toFixed(1)} ns/folio + ${fit.coef.pteRuns.toFixed(0)} ns/PTE run`;
    for (const r of fit.residuals.filter((x) => x.flagged)) out += `\n  ⚑ ${r.id}: ${r.note}`;
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
  json?: boolean;
  inProcess?: boolean;
  verify: boolean;
  list?: boolean;
  kernel?: string[];
}

function resumeCommand(out: string): string {
  const args = process.argv.slice(2).filter((a) => a !== '--resume');
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
      intArg('--samples', 1),
    )
    .option(
      '--warmup <n>',
      'discarded samples per case (default: the matrix’s)',
      intArg('--warmup', 0),
    )
    .option('--pin <cpu>', 'sched_setaffinity the sampling process to this CPU', intArg('--pin', 0))
    .option('--out <file>', 'results file (default bench-results/<preset>-<time>.jsonl)')
    .option('--resume', 'complete an interrupted results file (--out) with the cases it lacks')
    .option('--json', 'print the case records as JSON lines on stdout instead of the table')
    .option('--in-process', 'sample in this (multi-threaded) process instead of a forked child')
    .option('--no-verify', 'skip the data check after each call')
    .option('--list', 'list the cases and exit')
    .action((opts: BenchOpts, self: Command) => {
      if (opts.kernel && !opts.list) return benchOnKernels(self);
      try {
        benchAction(opts);
      } catch (e) {
        inputError(e);
      }
    });
  addKernelOption(cmd);
}

function benchAction(opts: BenchOpts): void {
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
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const label = opts.preset ?? (opts.matrix ? path.basename(opts.matrix, '.json') : 'quick');
  const out = opts.out ?? path.join('bench-results', `${label}-${stamp}.jsonl`);
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
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
  const result = runBench({
    matrix,
    out,
    resume: opts.resume ?? false,
    samples: opts.samples ?? matrix.samples,
    warmup: opts.warmup ?? matrix.warmup,
    pin: opts.pin ?? null,
    isolated: !opts.inProcess,
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
  });
  bar?.stop();
  const records = [...result.records].sort((a, b) => a.index - b.index);
  if (opts.json) for (const r of records) process.stdout.write(`${JSON.stringify(r)}\n`);
  else process.stdout.write(`${summaryTable(records)}\n`);
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
        const a = readResults(baseFile);
        const b = readResults(newFile);
        const mixed = (opts as { mixedAccel?: boolean }).mixedAccel;
        const c = compareResults(a, b, threshold, mixed);
        if (opts.format === 'json') process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
        else if (opts.format === 'markdown') process.stdout.write(`${toMarkdown(c)}\n`);
        else if (opts.format === 'benchstat') process.stdout.write(`${toBenchstat(a, b)}\n`);
        else {
          const t = new Table({
            head: ['case', 'base', 'new', 'ratio', '95% CI', 'p (MWU)', 'verdict'],
            style: { head: ['cyan'], compact: true },
          });
          for (const r of c.rows) {
            const v =
              r.verdict === 'improved'
                ? pc.green(r.verdict)
                : r.verdict === 'regressed'
                  ? pc.red(r.verdict)
                  : r.verdict;
            t.push([
              r.id,
              formatNs(r.base.median),
              formatNs(r.next.median),
              r.ratio.toFixed(3),
              `${r.lo.toFixed(3)}–${r.hi.toFixed(3)}`,
              r.p.toPrecision(2),
              v,
            ]);
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
        const results = files.map(readResults);
        const { html, charts } = await buildReport(results);
        fs.writeFileSync(opts.output, html);
        if (opts.svg) {
          fs.mkdirSync(opts.svg, { recursive: true });
          for (const c of charts) fs.writeFileSync(path.join(opts.svg, `${c.name}.svg`), c.svg);
        }
        process.stderr.write(`wrote ${opts.output} (${charts.length} charts)\n`);
      } catch (e) {
        inputError(e);
      }
    });
}
