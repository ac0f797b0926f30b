/**
 * `mremap-lab fuzz`: differential fuzzing of the kernel against the model (docs/fuzzing.md).
 * Progress goes to stderr, the summary to stdout; exit 1 when a divergence was found, 2 for
 * bad options.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { outDirProblem } from '../out-path.js';
import { probe } from '../kernel/probe.js';
import { PROFILES } from '../model/profiles.js';
import { DEFAULT_WEIGHTS, OP_KINDS, type OpKind } from '../scenario/fuzz/gen.js';
import { runFuzz, type FuzzResult, type Progress } from '../scenario/fuzz/driver.js';
import { writeCase, stepsText, failureText, type CaseFiles } from '../scenario/fuzz/output.js';
import type { Scenario } from '../scenario/types.js';
import { describeTraits } from '../model/traits.js';
import { resolveProfile, resolveTraits } from '../scenario/model-config.js';
import { parseDuration } from './duration.js';
import { collect, TRAIT_HELP, traitOverridesOrExit } from './validate.js';

export { parseDuration } from './duration.js';
import { addKernelOption, runOnKernels } from './kernel-option.js';

interface Opts {
  seed?: number;
  runs?: number;
  time?: number;
  opsPerRun: number;
  pages: number;
  profile: string;
  out?: string;
  json?: boolean;
  weights?: Record<OpKind, number>;
  shrinkTime: number;
  confirm: number;
  path?: string;
  trait: string[];
  kernel?: string[];
}

function wholeNumber(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** "mremap=20,fork=0": weights over the defaults. */
export function parseWeights(v: string): Record<OpKind, number> {
  const w: Record<OpKind, number> = { ...DEFAULT_WEIGHTS };
  for (const part of v.split(',').filter(Boolean)) {
    const m = /^([a-z-]+)=(\d+)$/.exec(part.trim());
    if (!m || !(OP_KINDS as readonly string[]).includes(m[1]!))
      throw new InvalidArgumentError(
        `expected op=weight pairs, ops: ${OP_KINDS.join(', ')} (got "${part}")`,
      );
    w[m[1] as OpKind] = Number(m[2]);
  }
  if (OP_KINDS.every((k) => w[k] === 0)) throw new InvalidArgumentError('every weight is 0');
  return w;
}

function progressLine(p: Progress): string {
  const s = p.elapsedMs / 1000;
  const rate = s > 0 ? Math.round(p.ops / s) : 0;
  return `fuzz: ${p.phase}  runs ${p.runs}  ops ${p.ops}  ${rate} ops/s  divergences ${p.divergences}  ${s.toFixed(1)}s`;
}

function summary(r: FuzzResult, profile: string, files: CaseFiles | undefined): string {
  const counts = Object.entries(r.opCounts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    `mremap-lab fuzz: seed ${r.seed}, profile ${profile}`,
    `  ${r.runs} runs, ${r.ops} differential ops in ${(r.elapsedMs / 1000).toFixed(1)} s (${Math.round(r.opsPerSec)} ops/s)`,
    `  ops: ${counts || 'none'}`,
  ];
  if (r.errors)
    lines.push(`  ${r.errors} case(s) could not run (generator bug), first: ${r.firstError}`);
  if (r.interrupted)
    lines.push(
      `  INTERRUPTED (SIGINT): ${r.found ? 'the finding below is not fully shrunk and not confirmed' : `${r.runs} runs finished`}; run again with --seed ${r.seed}`,
    );
  const f = r.found;
  if (!f) {
    lines.push('  no divergence');
    return lines.join('\n');
  }
  lines.push(
    `  DIVERGENCE (${f.confirmRuns === 0 ? 'not confirmed' : f.deterministic ? 'deterministic' : `FLAKY: reproduced ${f.reproduced}/${f.confirmRuns}`}), shrunk from ${f.originalSteps} to ${f.steps.length} steps in ${f.shrinks} shrinks`,
    `  replay: --seed ${r.seed} (fast-check path ${f.path}; shrunk ${f.shrunkPath})`,
    '',
    stepsText(f.steps, f.failure.step),
    '',
    failureText(f.failure),
  );
  if (files) lines.push('Files:', `  ${files.json}`, `  ${files.report}`, `  ${files.c}`);
  return lines.join('\n');
}

export function registerFuzz(program: Command): void {
  const cmd = program
    .command('fuzz')
    .description(
      'differential fuzzing: random op sequences on the kernel and the model, shrunk to a minimal case with a C reproducer',
    )
    .option(
      '--seed <n>',
      'random seed (default: time-based, printed)',
      wholeNumber('--seed', 0, 2 ** 31 - 1),
    )
    .option('--runs <n>', 'cases to run (default 100)', wholeNumber('--runs', 1))
    .option('--time <duration>', 'run for this long instead (60s, 2m, 500ms)', parseDuration)
    .option('--ops-per-run <n>', 'max ops per case', wholeNumber('--ops-per-run', 1, 10_000), 40)
    .option(
      '--pages <n>',
      'arena (= comparison window) size in pages',
      wholeNumber('--pages', 8, 1 << 20),
      64,
    )
    .option(
      '--profile <name>',
      `model profile: auto or one of ${Object.keys(PROFILES).join(', ')}`,
      'auto',
    )
    .option(
      '--weights <list>',
      `op mix over the defaults, e.g. "mremap=20,fork=0" (ops: ${OP_KINDS.join(', ')})`,
      parseWeights,
    )
    .option('--out <dir>', 'write the scenario JSON, report and C reproducer of a finding here')
    .option('--json', 'print the summary as JSON')
    .option('--trait <name=value>', TRAIT_HELP, collect, [])
    .option('--path <path>', "replay one case: fast-check's path from a summary (with its --seed)")
    .addOption(
      new Option('--shrink-time <duration>', 'time allowed for shrinking (60s, 2m, 500ms)')
        .argParser(parseDuration)
        .default(60_000, '60s'),
    )
    .option(
      '--confirm <n>',
      're-runs of the minimal case to tell deterministic from flaky',
      wholeNumber('--confirm', 1, 100),
      5,
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 no divergence, 1 a divergence (or kernel invariant) was found, 2 bad options.\nEvery case is reproducible from --seed (and the fast-check path in the summary). See docs/fuzzing.md.',
    )
    .action(async (opts: Opts, cmd: Command) => {
      if (opts.kernel) return runOnKernels(cmd);
      if (opts.runs !== undefined && opts.time !== undefined)
        cmd.error('fuzz: give --runs or --time, not both', { exitCode: 2 });
      if (opts.path !== undefined && (opts.seed === undefined || !/^\d+(:\d+)*$/.test(opts.path)))
        cmd.error('fuzz: --path needs the --seed it came from and looks like "12" or "12:3:0"', {
          exitCode: 2,
        });
      if (opts.profile !== 'auto' && !(opts.profile in PROFILES))
        cmd.error(
          `fuzz: unknown profile '${opts.profile}'; use auto or one of ${Object.keys(PROFILES).join(', ')}`,
          { exitCode: 2 },
        );
      const overrides = traitOverridesOrExit('fuzz', cmd, opts.trait);
      const outProblem = opts.out === undefined ? null : outDirProblem(opts.out);
      if (outProblem)
        cmd.error(`fuzz: cannot write --out ${opts.out}: ${outProblem}`, { exitCode: 2 });
      const seed = opts.seed ?? Date.now() % 2 ** 31;
      // Printed first: a time-based seed must survive even a kill -9.
      process.stderr.write(`fuzz: seed ${seed} (replay with --seed ${seed})
`);
      const p = probe();
      const { profile } = resolveProfile(opts.profile, p);
      const traits = resolveTraits(p, overrides);
      process.stderr.write(`fuzz: model ${profile.name}, traits ${describeTraits(traits)}
`);
      const tty = process.stderr.isTTY;
      let lastPrinted = 0;
      // Ctrl-C ends the search after the current case and reports what finished (exit 130);
      // a second one kills as usual.
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      const r = await runFuzz({
        probe: p,
        profile,
        traits,
        pages: opts.pages,
        seed,
        runs: opts.runs ?? 100,
        ...(opts.time !== undefined ? { timeMs: opts.time } : {}),
        opsPerRun: opts.opsPerRun,
        weights: opts.weights ?? DEFAULT_WEIGHTS,
        shrinkTimeMs: opts.shrinkTime,
        confirmRuns: opts.confirm,
        ...(opts.path !== undefined ? { path: opts.path } : {}),
        signal: stop.signal,
        onProgress: (pr) => {
          // A TTY gets a live line; a log gets a line every 5 s.
          if (tty) process.stderr.write(`\r${progressLine(pr)}\x1b[K`);
          else if (pr.elapsedMs - lastPrinted >= 5000) {
            lastPrinted = pr.elapsedMs;
            process.stderr.write(`${progressLine(pr)}\n`);
          }
        },
      });
      if (tty) process.stderr.write('\r\x1b[K');
      process.stderr.write(
        `${progressLine({ runs: r.runs, ops: r.ops, elapsedMs: r.elapsedMs, divergences: r.found ? 1 : 0, phase: 'search' })}\n`,
      );
      let files: CaseFiles | undefined;
      let scenario: Scenario | undefined;
      if (r.found) {
        const f = r.found;
        scenario = {
          id: `fuzz-${profile.name.replace(/[^\w.-]/g, '_')}-s${seed}`,
          title: `fuzz: ${f.failure.kind} at ${f.failure.call}`,
          source: `mremap-lab fuzz --seed ${seed} --profile ${opts.profile} --ops-per-run ${opts.opsPerRun} --pages ${opts.pages}${opts.trait.map((t) => ` --trait ${t}`).join('')} (fast-check path ${f.path}) on ${p.release}`,
          tags: ['fuzz'],
          arena: { pages: opts.pages, align: '2M' },
          steps: f.steps.map((s, i) =>
            i === f.failure.step
              ? {
                  ...s,
                  note: `fuzz: kernel ${f.failure.kernel}${f.failure.kind === 'divergence' ? `, model ${f.failure.model}` : ''}`,
                }
              : s,
          ),
        };
        if (opts.out) {
          try {
            files = writeCase(opts.out, scenario, f.outcome, [
              `mremap-lab fuzz finding on ${p.release}, profile ${profile.name}`,
              `seed ${seed}, fast-check path ${f.path} (shrunk: ${f.shrunkPath})`,
              `${f.confirmRuns === 0 ? 'not confirmed (interrupted)' : f.deterministic ? 'deterministic' : 'FLAKY'}: reproduced ${f.reproduced} of ${f.confirmRuns} re-runs; shrunk from ${f.originalSteps} to ${f.steps.length} steps`,
            ]);
          } catch (e) {
            // The directory was writable before the run; the finding must survive its loss.
            process.stderr.write(
              `mremap-lab fuzz: cannot write the finding to ${opts.out}: ${e instanceof Error ? e.message : String(e)}\n` +
                `the finding in full (scenario JSON last):\n${summary(r, profile.name, undefined)}\n${JSON.stringify(scenario, null, 2)}\n`,
            );
          }
        }
      }
      if (opts.json) {
        const out = {
          seed,
          profile: profile.name,
          traits: describeTraits(traits),
          kernel: p.release,
          runs: r.runs,
          ops: r.ops,
          elapsedMs: r.elapsedMs,
          opsPerSec: r.opsPerSec,
          opCounts: r.opCounts,
          errors: r.errors,
          ...(r.interrupted ? { interrupted: true } : {}),
          ...(r.firstError ? { firstError: r.firstError } : {}),
          ...(r.found
            ? {
                divergence: {
                  ...r.found.failure,
                  deterministic: r.found.deterministic,
                  reproduced: r.found.reproduced,
                  confirmRuns: r.found.confirmRuns,
                  path: r.found.path,
                  shrunkPath: r.found.shrunkPath,
                  originalSteps: r.found.originalSteps,
                  scenario,
                  ...(files ? { files } : {}),
                },
              }
            : {}),
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        process.stdout.write(`${summary(r, profile.name, files)}\n`);
      }
      process.exitCode = r.interrupted ? 130 : r.found ? 1 : 0;
    });
  addKernelOption(cmd);
}
