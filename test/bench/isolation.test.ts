// A case's failure is that case's result: a worker killed mid-case (SIGKILL, as the OOM
// killer does; injected with MREMAP_LAB_KILL_CASE) is recorded as failed and the run goes
// on; --resume keeps the failure, --retry-failed runs it again. The sampler itself, in
// process: test/bench/sampler.test.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults } from '../../src/bench/results.js';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist/cli/main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-bench-iso-'));
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });

describe('a case whose process dies', () => {
  it('is recorded as failed, the run goes on, --resume keeps it, --retry-failed reruns it', () => {
    const matrix = path.join(tmp, 'm.json');
    fs.writeFileSync(
      matrix,
      JSON.stringify({ samples: 3, warmup: 0, cases: [{ size: ['4K', '64K', '128K'] }] }),
    );
    const out = path.join(tmp, 'killed.jsonl');
    const victim = 'move 64K pte->pte private-anon pop=1';
    const r = run(['bench', '--matrix', matrix, '--out', out, '--json'], {
      MREMAP_LAB_KILL_CASE: victim,
    });
    expect(r.status, r.stderr).toBe(1);
    const f = readResults(out);
    expect(f.cases.map((c) => [c.id, c.status, c.reason ?? null])).toEqual([
      ['move 4K pte->pte private-anon pop=1', 'ok', null],
      [
        victim,
        'failed',
        'the process running this case was killed by SIGKILL (what the OOM killer sends when memory runs out)',
      ],
      ['move 128K pte->pte private-anon pop=1', 'ok', null],
    ]);
    expect(f.cases[1]!.plan.ptes).toBe(16);

    const resumed = run(['bench', '--matrix', matrix, '--out', out, '--resume', '--json']);
    expect(resumed.stderr).toContain('0 cases run');
    expect(readResults(out).cases).toHaveLength(3);

    const retried = run([
      'bench',
      '--matrix',
      matrix,
      '--out',
      out,
      '--resume',
      '--retry-failed',
      '--json',
    ]);
    expect(retried.status, retried.stderr).toBe(0);
    expect(retried.stderr).toContain(`retrying 1 failed case(s): ${victim}`);
    const g = readResults(out);
    expect(g.cases.map((c) => [c.index, c.status])).toEqual([
      [0, 'ok'],
      [2, 'ok'],
      [1, 'ok'],
    ]);
  });
});

describe('timed samples never run in the Node process', () => {
  it('bench --in-process is refused with the reason, and no results file is made', () => {
    const out = path.join(tmp, 'inproc.jsonl');
    const r = run(['bench', '--preset', 'quick', '--in-process', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--in-process is gone: timed samples run only in the forked');
    expect(fs.existsSync(out)).toBe(false);
  });
});
