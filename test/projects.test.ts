// Every test file is in exactly one vitest project (test/projects.ts): a file in none would
// never run under `npm run test:unit|kernel|e2e`, a file in two would run twice.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECTS, matches, projectsOf } from './projects.js';

const root = path.resolve(import.meta.dirname, '..');

function testFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = `${dir}/${d.name}`;
    if (d.isDirectory()) return d.name === 'fixtures' ? [] : testFiles(rel);
    return d.name.endsWith('.test.ts') ? [rel] : [];
  });
}

describe('vitest projects', () => {
  const all = testFiles('test');

  it('put every test file in exactly one project', () => {
    const wrong = all
      .map((f) => [f, projectsOf(f)] as const)
      .filter(([, p]) => p.length !== 1)
      .map(([f, p]) => `${f}: ${p.length ? p.join(' and ') : 'no project'} (see test/projects.ts)`);
    expect(wrong).toEqual([]);
  });

  it('name no file that does not exist', () => {
    const stale = Object.values(PROJECTS)
      .flat()
      .filter((e) => !all.some((f) => matches(e, f)));
    expect(stale).toEqual([]);
  });

  it('can fail: a file in no project and a file in two are found', () => {
    expect(projectsOf('test/bench/not-yet-placed.test.ts')).toEqual([]);
    expect(projectsOf('test/model/merge.test.ts')).toEqual(['unit']);
    const twice = { ...PROJECTS, kernel: [...PROJECTS.kernel, 'test/model/**/*.test.ts'] };
    const inTwo = Object.values(twice).filter((l) =>
      l.some((e) => matches(e, 'test/model/merge.test.ts')),
    );
    expect(inTwo).toHaveLength(2);
  });
});
