/**
 * Workers: no more than one per CPU (saying so when --jobs asked for more), and a scenario's
 * timeout counts from when its worker starts it, not from the worker's own start-up.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundJobs } from '../../src/scenario/pool.js';
import type { RunReport } from '../../src/scenario/report/types.js';

const root = path.resolve(import.meta.dirname, '../..');
const multi = path.join(root, 'test/fixtures/scenarios/multi');

function validate(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'dist/cli/main.js'), 'validate', ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', ...env },
      timeout: 120_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('worker pool', () => {
  it('bounds --jobs by the CPUs and says so', () => {
    expect(boundJobs(2, 2)).toEqual({ jobs: 2 });
    expect(boundJobs(1000, 2)).toEqual({
      jobs: 2,
      note: '--jobs 1000 is more than the 2 CPUs here; using 2',
    });
    expect(boundJobs(3, 1).note).toBe('--jobs 3 is more than the 1 CPU here; using 1');
    const cpus = os.availableParallelism();
    const r = validate(['--suite', multi, '--jobs', '1000', '--format', 'json']);
    expect(r.stderr).toContain(`--jobs 1000 is more than the ${cpus} CPU`);
    expect((JSON.parse(r.stdout) as RunReport).results.map((x) => x.status)).toEqual(['pass']);
  });

  it("does not count a slow worker start-up against the scenario's timeout", () => {
    // Every worker takes 3 s to start; the scenario itself takes milliseconds.
    const preload = path.join(root, 'test/fixtures/preload/slow-start.cjs');
    const r = validate(['--suite', multi, '--timeout', '1200', '--format', 'json'], {
      NODE_OPTIONS: `--require ${preload}`,
    });
    const res = (JSON.parse(r.stdout) as RunReport).results[0]!;
    expect([res.status, res.reason]).toEqual(['pass', undefined]);
    expect(r.code).toBe(0);
  });
});
