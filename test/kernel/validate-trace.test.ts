/**
 * validate --trace on the running kernel. Where the kernel lets us observe
 * move_page_tables() (a vm guest), each mremap step's plan is compared; where it does not
 * (this project's hosts: no kprobe_events, available_filter_functions EPERM), the run says
 * so, with the very reason `trace status` gives, and compares nothing: never a silent pass.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverTracer } from '../../src/kernel/trace/discover.js';
import { native } from '../../src/native.js';
import type { RunReport } from '../../src/scenario/report/types.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });

describe('validate --trace on this kernel', () => {
  const status = discoverTracer(native.unameRelease());

  it('gives the reason trace status gives, or compares the plans', () => {
    const r = run(
      'validate',
      '--trace',
      '--filter',
      'align-2m-1m-1m',
      '--format',
      'json',
      '--jobs',
      '1',
    );
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as RunReport;
    const t = report.trace!;
    const st = run('trace', 'status');
    if (status.problem !== null) {
      const because = st.stdout.match(/^cannot trace: (.*)$/m)?.[1];
      expect(because).toBe(status.problem);
      expect(
        t.problem!.startsWith(`${because!}; available_filter_functions: ${status.filterFunctions}`),
      ).toBe(true);
      expect(t.method).toBe('none');
      expect(t.steps).toBe(0);
      expect(report.results[0]!.planChecks).toBeUndefined();
      expect(r.stderr).toContain(
        `mremap-lab validate: --trace: the move plan cannot be verified on this kernel: ${t.problem}`,
      );
      const pretty = run('validate', '--trace', '--filter', 'align-2m-1m-1m', '--jobs', '1');
      expect(pretty.stdout).toContain(
        `plan trace: the move plan cannot be verified on this kernel: ${t.problem}`,
      );
    } else {
      // The scenario moves 2 MiB between mutually 1 MiB-aligned addresses: one walk.
      expect(t.problem).toBeNull();
      expect(t.steps).toBe(1);
      expect(t.walks).toBe(1);
      expect(t.differ).toBe(0);
    }
  }, 120_000);

  it('refuses --trace with --model-only (nothing to trace)', () => {
    const r = run('validate', '--trace', '--model-only', '--filter', 'align-2m-1m-1m');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("option '--trace' cannot be used with option '--model-only'");
  });
});
