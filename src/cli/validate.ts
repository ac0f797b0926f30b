import fs from 'node:fs';
import os from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { outDirProblem, outFileProblem } from '../out-path.js';
import cliProgress from 'cli-progress';
import { probe } from '../kernel/probe.js';
import { PROFILES } from '../model/profiles.js';
import { describeTraits, parseTraitOverrides, TRAIT_NAMES, TraitError } from '../model/traits.js';
import { resolveProfile, resolveTraits } from '../scenario/model-config.js';
import { boundJobs, runPool } from '../scenario/pool.js';
import { loadScenarios, matchesFilter } from '../scenario/suite.js';
import { scenarioJsonSchema } from '../scenario/schema.js';
import { formatPretty } from '../scenario/report/pretty.js';
import { formatKtap } from '../scenario/report/ktap.js';
import { formatJunit } from '../scenario/report/junit.js';
import { counts, type RunReport } from '../scenario/report/types.js';
import { emitReproducers } from '../scenario/fuzz/output.js';
import { colors } from './color.js';
import { validateOnKernels } from './multi-kernel.js';
import { addKernelOption } from './kernel-option.js';
import { startPlanTrace } from './validate-trace.js';
import { TOOL } from '../version.js';
import { RELEASE_PROFILES } from '../scenario/profile-matrix.js';
import { formatProfileCounts } from '../scenario/confusion.js';

interface Opts {
  suite: string[];
  filter?: string;
  profile: string;
  format: 'pretty' | 'json' | 'ktap' | 'junit';
  modelOnly?: boolean;
  kernelOnly?: boolean;
  jobs: number;
  timeout: number;
  list?: boolean;
  printSchema?: boolean;
  out?: string;
  emitC?: string;
  trait: string[];
  kernel?: string[];
  trace?: boolean;
  profiles?: string;
}

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
    return n;
  };
}

/** commander collector for repeatable options. */
export function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** `--trait name=value` settings as overrides; a bad one is a usage error (exit 2). */
export function traitOverridesOrExit(name: string, cmd: Command, settings: string[]) {
  try {
    return parseTraitOverrides(settings);
  } catch (e) {
    if (e instanceof TraitError) cmd.error(`${name}: ${e.message}`, { exitCode: 2 });
    throw e;
  }
}

export const TRAIT_HELP = `override a probed behaviour trait for the model (repeatable): ${TRAIT_NAMES.join(', ')}; e.g. --trait zeroPage=false`;

/** `--profiles all` or `a,b,…`: the names, or what is wrong with them. */
export function profileList(v: string): string[] | string {
  if (v.trim() === 'all') return [...RELEASE_PROFILES];
  const names = v
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(n in PROFILES));
  if (names.length === 0 || bad.length > 0)
    return `unknown profile ${bad.map((b) => `'${b}'`).join(', ') || "''"}; use all or names from ${Object.keys(PROFILES).join(', ')} separated by commas`;
  return [...new Set(names)];
}

export function registerValidate(program: Command): void {
  const cmd = program
    .command('validate')
    .description(
      'run scenarios on the real kernel and on the reference model, and report every divergence',
    )
    .option('--suite <source...>', '"builtin" and/or scenario files or directories', ['builtin'])
    .option('--filter <glob>', 'only scenarios whose id or a tag matches (e.g. "merge-*", "thp")')
    .option(
      '--profile <name>',
      `model profile: auto or one of ${Object.keys(PROFILES).join(', ')}`,
      'auto',
    )
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['pretty', 'json', 'ktap', 'junit'])
        .default('pretty'),
    )
    .addOption(
      new Option('--model-only', 'run only the model (no kernel calls)').conflicts('kernelOnly'),
    )
    .option('--kernel-only', 'run only the kernel (explicit expectations still checked)')
    .addOption(
      new Option(
        '--trace',
        "also compare every mremap step's page-table move plan with the one the kernel took (kprobe events; root; see docs/trace.md)",
      ).conflicts(['modelOnly', 'kernelOnly']),
    )
    .addOption(
      new Option(
        '--profiles <names>',
        `also judge every scenario under these model profiles from the same kernel run: "all" (the release profiles ${RELEASE_PROFILES.join(', ')}) or names separated by commas; the report gives each result's verdict per profile, the confusion matrix's input (docs/scenarios.md)`,
      ).conflicts(['modelOnly', 'kernelOnly', 'trace']),
    )
    .option('--trait <name=value>', TRAIT_HELP, collect, [])
    .option('--jobs <n>', 'worker processes (at most one per CPU)', positiveInt('--jobs'), 2)
    .option(
      '--timeout <ms>',
      'per-scenario timeout, from when a worker starts the scenario',
      positiveInt('--timeout'),
      30_000,
    )
    .option('--list', 'list the scenarios that would run, and exit')
    .option('--print-schema', 'print the scenario JSON Schema, and exit')
    .option('-o, --out <file>', 'also write the report to this file')
    .option('--emit-c <dir>', 'write a standalone C reproducer (<id>.c) of each divergent scenario')
    .addHelpText(
      'after',
      '\nExit codes: 0 all passed or skipped, 1 a divergence or failure, 2 a usage or scenario input error (the scenarios that loaded still run and are reported).\nScenario format: docs/scenarios.md',
    )
    .action(async (opts: Opts, cmd: Command) => {
      if (opts.kernel && !opts.list && !opts.printSchema) {
        return validateOnKernels(cmd);
      }
      if (opts.printSchema) {
        process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
        return;
      }
      if (opts.profile !== 'auto' && !(opts.profile in PROFILES)) {
        cmd.error(
          `validate: unknown profile '${opts.profile}'; use auto or one of ${Object.keys(PROFILES).join(', ')}`,
          { exitCode: 2 },
        );
      }
      const matrix = opts.profiles === undefined ? undefined : profileList(opts.profiles);
      if (matrix !== undefined && typeof matrix === 'string')
        cmd.error(`validate: --profiles: ${matrix}`, { exitCode: 2 });
      const overrides = traitOverridesOrExit('validate', cmd, opts.trait);
      const outProblem = opts.out === undefined ? null : outFileProblem(opts.out);
      if (outProblem)
        cmd.error(`validate: cannot write -o ${opts.out}: ${outProblem}`, { exitCode: 2 });
      const emitProblem = opts.emitC === undefined ? null : outDirProblem(opts.emitC);
      if (emitProblem)
        cmd.error(`validate: cannot write --emit-c ${opts.emitC}: ${emitProblem}`, { exitCode: 2 });
      const t0 = performance.now();
      const { scenarios, errors } = loadScenarios(opts.suite);
      const selected = scenarios.filter((s) => matchesFilter(s.scenario, opts.filter));
      if (opts.list) {
        for (const s of selected)
          process.stdout.write(`${s.scenario.id}\t${s.scenario.title}\t${s.file}\n`);
        for (const e of errors)
          process.stderr.write(`${e.file}${e.path ? ` at ${e.path}` : ''}: ${e.message}\n`);
        process.exitCode = errors.length ? 2 : 0;
        return;
      }
      // A file that does not load is reported (stderr now, and in the document as a failed
      // entry) while every other scenario still runs: one typo must not hide the suite.
      for (const e of errors)
        process.stderr.write(
          `mremap-lab validate: ${e.file}${e.path ? ` at ${e.path}` : ''}: ${e.message}\n`,
        );
      if (selected.length === 0 && errors.length === 0) {
        cmd.error(`validate: no scenario matches${opts.filter ? ` --filter ${opts.filter}` : ''}`, {
          exitCode: 2,
        });
      }
      const p = probe();
      const { profile, reason } = resolveProfile(opts.profile, p);
      const traits = resolveTraits(p, overrides);
      const bar =
        process.stderr.isTTY && opts.format === 'pretty'
          ? new cliProgress.SingleBar(
              { format: 'validate [{bar}] {value}/{total} {id}', hideCursor: true },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      bar?.start(selected.length, 0, { id: '' });
      const jobs = boundJobs(opts.jobs, os.availableParallelism());
      // The default (2) is lowered silently on a 1-CPU machine; an explicit --jobs is told.
      if (jobs.note && cmd.getOptionValueSource('jobs') !== 'default')
        process.stderr.write(`mremap-lab validate: ${jobs.note}\n`);
      const only = opts.modelOnly ? 'model' : opts.kernelOnly ? 'kernel' : undefined;
      // Ctrl-C stops the run and reports what finished (exit 130); a second one kills.
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      const trace = opts.trace ? startPlanTrace(p.release) : undefined;
      const results = await runPool(
        selected.map((s) => s.scenario),
        {
          ...(trace?.usable ? { trace: trace.usable } : {}),
          jobs: jobs.jobs,
          timeoutMs: opts.timeout,
          probe: p,
          profile,
          traits,
          ...(only ? { only } : {}),
          ...(matrix ? { profiles: matrix as string[] } : {}),
          onResult: (r) => bar?.increment(1, { id: r.id }),
          signal: stop.signal,
        },
      ).finally(() => trace?.stop());
      bar?.stop();
      const report: RunReport = {
        tool: TOOL,
        kernel: p.release,
        profile: profile.name,
        profileReason: reason,
        traits: describeTraits(traits),
        results,
        loadErrors: errors,
        durationMs: performance.now() - t0,
        ...(trace ? { trace: trace.summary(results) } : {}),
        ...(matrix ? { profiles: matrix as string[] } : {}),
      };
      if (stop.signal.aborted) {
        const done = new Set(results.map((r) => r.id));
        report.notRun = selected.map((s) => s.scenario.id).filter((id) => !done.has(id));
      }
      const text =
        opts.format === 'json'
          ? JSON.stringify(report, null, 2)
          : opts.format === 'ktap'
            ? formatKtap(report)
            : opts.format === 'junit'
              ? formatJunit(report)
              : [
                  formatPretty(report, colors),
                  ...(matrix ? [formatProfileCounts(report)] : []),
                ].join('\n');
      process.stdout.write(`${text}\n`);
      if (opts.out) fs.writeFileSync(opts.out, `${text}\n`);
      if (report.notRun) {
        process.stderr.write(
          `mremap-lab validate: interrupted (SIGINT): ${results.length} of ${selected.length} scenarios finished and are reported above; not run: ${report.notRun.join(', ') || 'none'}\n`,
        );
        process.exitCode = 130;
        return;
      }
      if (opts.emitC) {
        const failed = new Set(results.filter((r) => r.divergence).map((r) => r.id));
        for (const f of emitReproducers(
          opts.emitC,
          selected.map((s) => s.scenario).filter((s) => failed.has(s.id)),
          { probe: p, profile, traits },
        ))
          process.stderr.write(`mremap-lab validate: wrote ${f}\n`);
      }
      const c = counts(report);
      process.exitCode = errors.length > 0 ? 2 : c.fail + c.crash + c.timeout + c.error > 0 ? 1 : 0;
    });
  addKernelOption(cmd);
}
