import fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { probe } from '../kernel/probe.js';
import { getProfile, pickProfile, PROFILES, type Profile } from '../model/profiles.js';
import { runPool } from '../scenario/pool.js';
import { loadScenarios, matchesFilter } from '../scenario/suite.js';
import { scenarioJsonSchema } from '../scenario/schema.js';
import { formatPretty } from '../scenario/report/pretty.js';
import { formatKtap } from '../scenario/report/ktap.js';
import { formatJunit } from '../scenario/report/junit.js';
import { counts, type RunReport } from '../scenario/report/types.js';
import { emitReproducers } from '../scenario/fuzz/output.js';
import { validateOnKernels } from './multi-kernel.js';
import { addKernelOption } from './kernel-option.js';

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
  kernel?: string[];
}

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
    return n;
  };
}

export function resolveProfile(
  name: string,
  facts: Parameters<typeof pickProfile>[0],
): { profile: Profile; reason: string } {
  if (name === 'auto') return pickProfile(facts);
  return { profile: getProfile(name), reason: 'chosen with --profile' };
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
    .option('--jobs <n>', 'worker processes', positiveInt('--jobs'), 2)
    .option('--timeout <ms>', 'per-scenario timeout', positiveInt('--timeout'), 30_000)
    .option('--list', 'list the scenarios that would run, and exit')
    .option('--print-schema', 'print the scenario JSON Schema, and exit')
    .option('-o, --out <file>', 'also write the report to this file')
    .option('--emit-c <dir>', 'write a standalone C reproducer (<id>.c) of each divergent scenario')
    .addHelpText(
      'after',
      '\nExit codes: 0 all passed or skipped, 1 a divergence or failure, 2 a usage or scenario input error.\nScenario format: docs/scenarios.md',
    )
    .action(async (opts: Opts, self: Command) => {
      if (opts.kernel && !opts.list && !opts.printSchema) {
        return validateOnKernels(self);
      }
      if (opts.printSchema) {
        process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
        return;
      }
      if (opts.profile !== 'auto' && !(opts.profile in PROFILES)) {
        program.error(
          `validate: unknown profile '${opts.profile}'; use auto or one of ${Object.keys(PROFILES).join(', ')}`,
          { exitCode: 2 },
        );
      }
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
      if (errors.length > 0) {
        for (const e of errors)
          process.stderr.write(
            `mremap-lab validate: ${e.file}${e.path ? ` at ${e.path}` : ''}: ${e.message}\n`,
          );
        process.stderr.write(
          `not run (fix the input above first): ${selected.map((s) => s.scenario.id).join(', ') || 'none'}\n`,
        );
        process.exitCode = 2;
        return;
      }
      if (selected.length === 0) {
        program.error(
          `validate: no scenario matches${opts.filter ? ` --filter ${opts.filter}` : ''}`,
          { exitCode: 2 },
        );
      }
      const p = probe();
      const { profile, reason } = resolveProfile(opts.profile, {
        release: p.release,
        acceptedFlagBits: p.mremapFlags.filter((f) => f.accepted).map((f) => f.bit),
        multiVmaMove: p.multiVmaMove,
        mseal: p.mseal,
      });
      const bar =
        process.stderr.isTTY && opts.format === 'pretty'
          ? new cliProgress.SingleBar(
              { format: 'validate [{bar}] {value}/{total} {id}', hideCursor: true },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      bar?.start(selected.length, 0, { id: '' });
      const only = opts.modelOnly ? 'model' : opts.kernelOnly ? 'kernel' : undefined;
      const results = await runPool(
        selected.map((s) => s.scenario),
        {
          jobs: opts.jobs,
          timeoutMs: opts.timeout,
          probe: p,
          profile,
          ...(only ? { only } : {}),
          onResult: (r) => bar?.increment(1, { id: r.id }),
        },
      );
      bar?.stop();
      const report: RunReport = {
        tool: 'mremap-lab 0.1.0',
        kernel: p.release,
        profile: profile.name,
        profileReason: reason,
        results,
        loadErrors: errors,
        durationMs: performance.now() - t0,
      };
      const text =
        opts.format === 'json'
          ? JSON.stringify(report, null, 2)
          : opts.format === 'ktap'
            ? formatKtap(report)
            : opts.format === 'junit'
              ? formatJunit(report)
              : formatPretty(report);
      process.stdout.write(`${text}\n`);
      if (opts.out) fs.writeFileSync(opts.out, `${text}\n`);
      if (opts.emitC) {
        const failed = new Set(results.filter((r) => r.divergence).map((r) => r.id));
        for (const f of emitReproducers(
          opts.emitC,
          selected.map((s) => s.scenario).filter((s) => failed.has(s.id)),
          { probe: p, profile },
        ))
          process.stderr.write(`mremap-lab validate: wrote ${f}\n`);
      }
      const c = counts(report);
      process.exitCode = c.fail + c.crash + c.timeout + c.error > 0 ? 1 : 0;
    });
  addKernelOption(cmd);
}
