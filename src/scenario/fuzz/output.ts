/**
 * The three files of a finding: the scenario JSON (a regression test for `validate`), a
 * human-readable report, and the standalone C reproducer. `validate --emit-c` writes the C
 * file of a divergent built-in scenario through the same code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeDirs } from '../../out-path.js';
import { exportC } from '../export-c.js';
import { describeStep, stepJson } from '../steps/describe.js';
import { validateScenario } from '../schema.js';
import type { Scenario, Step } from '../types.js';
import { Harness, type CaseOutcome, type Failure, type HarnessContext } from './harness.js';

export interface CaseFiles {
  json: string;
  report: string;
  c: string;
}

export function failureText(f: Failure): string {
  const lines = [
    `${f.kind === 'invariant' ? 'Kernel invariant broken' : 'Divergence'} at step ${f.step}: ${f.call}`,
    `  kernel: ${f.kernel || '(see below)'}`,
  ];
  if (f.kind === 'divergence') lines.push(`  model:  ${f.model}`);
  lines.push('', 'Differences:', ...f.differences.map((d) => `  ${d}`), '');
  lines.push('Kernel layout:', indent(f.kernelLayout), '');
  if (f.modelLayout) lines.push('Model layout:', indent(f.modelLayout), '');
  if (f.explain) lines.push("Model's decision path (explain):", indent(f.explain), '');
  return lines.join('\n');
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export function stepsText(steps: Step[], mark?: number): string {
  return steps
    .map((s, i) => {
      // The call, and the step as JSON: describeStep leaves out populate, noreserve, offset.
      return `${i === mark ? '>' : ' '} ${String(i).padStart(2)}  ${describeStep(s)}\n       ${stepJson(s)}`;
    })
    .join('\n');
}

/** Writes the C reproducer alone (validate --emit-c). */
export function writeC(dir: string, sc: Scenario, outcome: CaseOutcome, headline: string): string {
  makeDirs(dir);
  const file = path.join(dir, `${sc.id}.c`);
  fs.writeFileSync(
    file,
    exportC({
      scenario: sc,
      model: outcome.model ?? [],
      arenaStart: outcome.arenaStart,
      window: outcome.window,
      headline,
    }),
  );
  return file;
}

/** Writes scenario JSON, report and C program for one finding. */
export function writeCase(
  dir: string,
  sc: Scenario,
  outcome: CaseOutcome,
  header: string[],
): CaseFiles {
  makeDirs(dir);
  const f = outcome.failure!;
  // The regression scenario must load in validate: checked here, not hoped for.
  validateScenario(JSON.parse(JSON.stringify(sc)) as unknown);
  const json = path.join(dir, `${sc.id}.json`);
  fs.writeFileSync(json, `${JSON.stringify(sc, null, 2)}\n`);
  const headline = `${f.kind} at step ${f.step}: ${f.call}\nkernel: ${f.kernel}${f.kind === 'divergence' ? `\nmodel:  ${f.model}` : ''}`;
  const c = writeC(dir, sc, outcome, headline);
  const report = path.join(dir, `${sc.id}.txt`);
  fs.writeFileSync(
    report,
    [
      ...header,
      '',
      'Steps (arena-relative; > marks the failing step):',
      stepsText(sc.steps, f.step),
      '',
      failureText(f),
      'Files:',
      `  ${json}  (mremap-lab validate --suite ${json})`,
      `  ${c}  (cc ${c} -o repro && ./repro)`,
      '',
    ].join('\n'),
  );
  return { json, report, c };
}

/**
 * validate --emit-c: re-runs each divergent scenario in process (the worker pool keeps no
 * model record) and writes its C reproducer. Returns the files written.
 */
export function emitReproducers(
  dir: string,
  scenarios: Scenario[],
  ctx: Omit<HarnessContext, 'pages' | 'align'>,
): string[] {
  const files: string[] = [];
  for (const sc of scenarios) {
    const h = new Harness({
      ...ctx,
      pages: sc.arena.pages,
      ...(sc.arena.align ? { align: sc.arena.align } : {}),
    });
    try {
      const out = h.run(sc, { record: true });
      const f = out.failure;
      const headline = f
        ? `${f.kind} at step ${f.step}: ${f.call}\nkernel: ${f.kernel}\nmodel:  ${f.model}`
        : 'no divergence on the re-run (flaky?)';
      files.push(writeC(dir, { ...sc, steps: sc.steps.slice(0, out.steps) }, out, headline));
    } catch (e) {
      process.stderr.write(
        `mremap-lab validate: --emit-c ${sc.id}: ${e instanceof Error ? e.message : String(e)}\n`,
      );
    } finally {
      h.dispose();
    }
  }
  return files;
}
