/**
 * validate --profiles: one kernel run per scenario, judged under every profile named. Each
 * profile's verdict must be the one `validate --profile P` gives on this kernel.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/scenario/report/types.js';

const root = path.resolve(import.meta.dirname, '../..');

function validate(args: string[]) {
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'dist/cli/main.js'), 'validate', ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 300_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('validate --profiles', () => {
  it('gives every profile the verdict a live run under it gives', () => {
    // DONTUNMAP scenarios: linux-6.1 and the running kernel's profile disagree on several.
    const filter = ['--filter', 'dontunmap-*', '--format', 'json'];
    const all = validate([...filter, '--profiles', 'all']);
    const m = JSON.parse(all.stdout) as RunReport;
    expect(m.profiles).toHaveLength(7);
    const live = JSON.parse(validate([...filter, '--profile', 'linux-6.1']).stdout) as RunReport;
    const own = JSON.parse(validate(filter).stdout) as RunReport;
    expect(m.profile).toBe(own.profile);
    const verdicts = (r: RunReport) => r.results.map((x) => [x.id, x.status]);
    expect(m.results.map((x) => [x.id, x.profiles!['linux-6.1']!.status])).toEqual(verdicts(live));
    expect(m.results.map((x) => [x.id, x.profiles![own.profile]!.status])).toEqual(verdicts(own));
    expect(verdicts(m)).toEqual(verdicts(own));
    // The chosen profile's result keeps its layouts; the others only their verdicts.
    expect(m.results.filter((x) => x.status !== 'skip').every((x) => x.kernelLayout)).toBe(true);
  }, 600_000);

  it('refuses an unknown profile and the options it cannot go with', () => {
    const bad = validate(['--profiles', 'linux-6.1,linux-9.9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--profiles: unknown profile 'linux-9.9'");
    const conflict = validate(['--profiles', 'all', '--model-only']);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toMatch(/cannot be used with option '--model-only'/);
  });
});
