/**
 * The house rules of src/: no model file over 500 lines (one kernel file's worth of concept
 * per module, issue 12) and no import cycle anywhere (type-only imports count too: a cycle
 * of types is still two modules that cannot be read one after the other).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');
const MAX_MODEL_LINES = 500;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? tsFiles(join(dir, d.name))
      : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts')
        ? [join(dir, d.name)]
        : [],
  );
}

/** Relative specifiers of import/export-from statements (static and dynamic), resolved to .ts files. */
export function importsOf(file: string, text: string): string[] {
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gms),
    ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every cycle's first occurrence in a depth-first walk of the import graph, as file lists. */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      const s = state.get(g);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(g)), g]);
      else if (s === undefined) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
}

describe('source layout', () => {
  const files = tsFiles(SRC);
  const rel = (f: string): string => relative(ROOT, f);

  test(`no file in src/model is over ${MAX_MODEL_LINES} lines`, () => {
    const long = files
      .filter((f) => f.startsWith(join(SRC, 'model')))
      .map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length - 1] as const)
      .filter(([, n]) => n > MAX_MODEL_LINES)
      .map(([f, n]) => `${f}: ${n} lines`);
    expect(long).toEqual([]);
  });

  test('src/ has no import cycle', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));
    expect(findCycles(graph).map((c) => c.map(rel).join(' → '))).toEqual([]);
  });

  test('the cycle detector finds a cycle and what closes it', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['b', 'd']],
      ['d', []],
    ]);
    expect(findCycles(g)).toEqual([['b', 'c', 'b']]);
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });

  test('imports are read from static, re-export and dynamic forms', () => {
    const text = [
      "import type { X } from './x.js';",
      "export { Y } from '../y.js';",
      "import {\n  Z,\n} from './z.js';",
      "import './side.js';",
      "const m = await import('./dyn.js');",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    expect(importsOf('/r/src/a/f.ts', text).sort()).toEqual(
      [
        '/r/src/a/dyn.ts',
        '/r/src/a/side.ts',
        '/r/src/a/x.ts',
        '/r/src/a/z.ts',
        '/r/src/y.ts',
      ].sort(),
    );
  });
});
