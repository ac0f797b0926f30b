/**
 * Built-in scenarios cite what a reader can open: kernel functions, commits, selftests,
 * mailing-list posts — never design notes outside the repository (which also became the
 * JUnit class name). The suite's count is stated once, in scenarios/README.md, and true.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatJunit } from '../../src/scenario/report/junit.js';

const root = path.resolve(import.meta.dirname, '../..');
const dir = path.join(root, 'scenarios');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
const scenarios = files.map(
  (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { id: string; source: string },
);
/** Paths and section marks of notes that do not ship with the repository. */
const OUTSIDE = /\/work\/|kernel-semantics|\.\.\/shared|§|Appendix [AB]|seed 0\d\d/;

describe('scenario citations', () => {
  it('no built-in scenario cites a document outside the repository', () => {
    const bad = scenarios.filter((s) => OUTSIDE.test(s.source)).map((s) => s.id);
    expect(bad).toEqual([]);
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme.split('\n').filter((l) => OUTSIDE.test(l))).toEqual([]);
  });

  it('scenarios/README.md states the true count and lists every scenario; README.md no count', () => {
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(/^(\d+) scenarios\.$/m.exec(readme)?.[1]).toBe(String(files.length));
    for (const s of scenarios) expect(readme, s.id).toContain(`\`${s.id}\``);
    const top = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(top).not.toMatch(/\d+ scenarios/);
  });

  it('the JUnit class name is the id family, not the citation', () => {
    const xml = formatJunit({
      tool: 't',
      kernel: 'k',
      profile: 'p',
      traits: 'zeroPage=true',
      profileReason: 'r',
      loadErrors: [],
      durationMs: 1,
      results: [
        {
          id: 'align-2m-1m-1m',
          title: 't',
          source: '/elsewhere/notes.md §4.1',
          status: 'pass',
          profile: 'p',
          steps: 1,
          durationMs: 1,
        },
      ],
    });
    expect(xml).toContain('<testcase classname="mremap-lab.align" name="align-2m-1m-1m"');
  });

  it('scenarios/README.md is what `npm run scenarios:readme` writes from the files', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'scripts/scenarios-readme.mjs'), '--check'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
