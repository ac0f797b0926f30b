/**
 * Finding and loading scenarios: the built-in suite (scenarios/ in the package) or files and
 * directories named by the user. A file that does not parse or validate becomes a load error
 * naming the file, the JSON path and what was expected; the other scenarios still load.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScenarioInputError } from './address.js';
import { validateScenario } from './schema.js';
import type { Scenario } from './types.js';

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
}

export interface LoadError {
  file: string;
  path: string;
  message: string;
}

export const BUILTIN_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../scenarios',
);

function listJson(p: string): string[] {
  const st = fs.statSync(p);
  if (st.isFile()) return [p];
  return fs
    .readdirSync(p, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? listJson(path.join(p, e.name))
        : e.name.endsWith('.json')
          ? [path.join(p, e.name)]
          : [],
    )
    .sort();
}

export function loadScenarios(sources: string[]): {
  scenarios: LoadedScenario[];
  errors: LoadError[];
} {
  const scenarios: LoadedScenario[] = [];
  const errors: LoadError[] = [];
  const seen = new Map<string, string>();
  for (const src of sources) {
    let files: string[];
    try {
      files = listJson(src === 'builtin' ? BUILTIN_DIR : src);
    } catch (e) {
      errors.push({
        file: src,
        path: '',
        message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      });
      continue;
    }
    for (const file of files) {
      let json: unknown;
      try {
        json = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (e) {
        errors.push({ file, path: '$', message: `not valid JSON: ${(e as Error).message}` });
        continue;
      }
      try {
        const sc = validateScenario(json);
        const dup = seen.get(sc.id);
        if (dup !== undefined) {
          errors.push({ file, path: '$.id', message: `duplicate id "${sc.id}" (also in ${dup})` });
          continue;
        }
        seen.set(sc.id, file);
        scenarios.push({ file, scenario: sc });
      } catch (e) {
        if (e instanceof ScenarioInputError)
          errors.push({ file, path: e.path, message: e.message });
        else throw e;
      }
    }
  }
  return { scenarios, errors };
}

/** Glob with * and ? over ids and tags ("merge-*", "thp"). */
export function matchesFilter(sc: Scenario, filter: string | undefined): boolean {
  if (!filter) return true;
  const re = new RegExp(
    `^${filter
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(sc.id) || (sc.tags ?? []).some((t) => re.test(t));
}
