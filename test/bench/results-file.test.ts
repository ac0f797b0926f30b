// The results file survives what a killed writer leaves (a torn last line) and refuses what
// no writer leaves (a case recorded twice); bad options are refused before a file exists.
// Real runs through the CLI, three samples per case; nothing here asserts a duration.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '../../src/bench/results.js';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist/cli/main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-bench-file-'));
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });

const matrix = path.join(tmp, 'm.json');
fs.writeFileSync(
  matrix,
  JSON.stringify({ samples: 3, warmup: 0, cases: [{ size: ['4K', '64K', '128K'] }] }),
);
const whole = path.join(tmp, 'whole.jsonl');

describe('a torn last line', () => {
  let torn: string;
  let lastId: string;
  beforeAll(() => {
    const r = run(['bench', '--matrix', matrix, '--out', whole, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const lines = fs.readFileSync(whole, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    lastId = (JSON.parse(lines[3]!) as { id: string }).id;
    torn = path.join(tmp, 'torn.jsonl');
    // What a writer killed inside write(2) leaves: the first half of a record, no newline.
    fs.writeFileSync(torn, `${lines.slice(0, 3).join('\n')}\n${lines[3]!.slice(0, 300)}`);
  });

  it('is reported and ignored by readResults, compare and report', () => {
    const f = readResults(torn);
    expect(f.cases.map((c) => c.index)).toEqual([0, 1]);
    expect(f.torn).toEqual({
      line: 4,
      offset: fs.readFileSync(torn, 'utf8').lastIndexOf('\n') + 1,
      bytes: 300,
    });
    const c = run(['compare', whole, torn, '--format', 'json']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toContain(`warning: ${torn}:4: the last line is incomplete (300 bytes`);
    const rows = (JSON.parse(c.stdout) as { unmatched: { id: string; why: string }[] }).unmatched;
    expect(rows).toEqual([{ id: lastId, why: `only in ${whole}` }]);
    const rep = run(['report', torn, '-o', path.join(tmp, 'torn.html')]);
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stderr).toContain(`warning: ${torn}:4:`);
  });

  it('--resume cuts it off and runs that case again', () => {
    const r = run(['bench', '--matrix', matrix, '--out', torn, '--resume', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('cutting it off and running that case again');
    expect(r.stderr).toContain('1 cases run');
    const f = readResults(torn);
    expect(f.torn).toBeNull();
    expect(f.cases.map((c) => [c.index, c.status])).toEqual([
      [0, 'ok'],
      [1, 'ok'],
      [2, 'ok'],
    ]);
    expect(fs.readFileSync(torn, 'utf8').split('\n')).toHaveLength(5); // 4 lines and a final \n
  });

  it('a torn header says to delete the file', () => {
    const h = path.join(tmp, 'torn-header.jsonl');
    fs.writeFileSync(h, fs.readFileSync(whole, 'utf8').slice(0, 100));
    const r = run(['compare', h, whole]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${h}:1: the header line is incomplete`);
  });
});

describe('a case recorded twice', () => {
  it('is refused with both line numbers (exit 2)', () => {
    const dup = path.join(tmp, 'dup.jsonl');
    const lines = fs.readFileSync(whole, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(dup, [...lines, lines[2]].join('\n') + '\n');
    const id = (JSON.parse(lines[2]!) as { id: string }).id;
    for (const args of [
      ['compare', whole, dup],
      ['report', dup, '-o', path.join(tmp, 'dup.html')],
      ['bench', '--matrix', matrix, '--out', dup, '--resume'],
    ]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(
        `${dup}:5: id: case ${JSON.stringify(id)} is recorded twice (also on line 3)`,
      );
    }
  });
});

describe('options are checked before any file is created', () => {
  for (const [args, message] of [
    [['--samples', '1e9'], '--samples must be a whole number from 1 to 1,000,000 (got 1e9)'],
    [['--samples', '2000000'], '--samples must be a whole number from 1 to 1,000,000'],
    [['--samples', '0'], '--samples must be a whole number from 1 to 1,000,000 (got 0)'],
    [['--warmup', '-1'], '--warmup must be a whole number from 0 to 1,000,000 (got -1)'],
    [['--pin', '99'], '--pin 99: this process may only run on CPUs'],
    [['--pin', '5000'], '--pin must be a whole number from 0 to 1,023 (got 5000)'],
  ] as const) {
    it(`${args.join(' ')}: exit 2, no results file`, () => {
      const out = path.join(tmp, `opt-${args.join('')}.jsonl`);
      const r = run(['bench', '--matrix', matrix, '--out', out, ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
      expect(fs.existsSync(out)).toBe(false);
    });
  }

  it('a matrix file with 2,000,000 samples is refused at its line', () => {
    const m = path.join(tmp, 'big.json');
    fs.writeFileSync(m, '{\n  "samples": 2000000,\n  "cases": [{}]\n}\n');
    const out = path.join(tmp, 'big.jsonl');
    const r = run(['bench', '--matrix', m, '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${m}:2: $.samples: expected an integer from 1 to 1000000`);
    expect(fs.existsSync(out)).toBe(false);
  });
});
