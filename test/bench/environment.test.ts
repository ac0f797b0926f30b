// Results carry the machine beyond the kernel release, and compare names every difference.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  benchEnvironment,
  conditionsSince,
  environmentWarnings,
  stealMsNow,
  type BenchEnvironment,
} from '../../src/bench/environment.js';

const env: BenchEnvironment = {
  cmdline: 'console=ttyS0',
  hypervisor: { cpuidBit: true, sysType: null, dmi: null },
  cpuModel: 'Some CPU',
  thp: { enabled: 'madvise', defrag: 'madvise', shmemEnabled: 'never' },
  kernelConfig: '0123456789abcdef',
};
const side = (file: string, e: BenchEnvironment | undefined, load1: number, stealMs = 0) => ({
  file,
  env: e,
  conditions: [{ stealMs, load1 }],
  durationMs: 1000,
});

describe('bench environment', () => {
  it('reads this machine as /proc and sysfs give it', () => {
    const e = benchEnvironment();
    expect(e.cmdline).toBe(fs.readFileSync('/proc/cmdline', 'utf8').trim());
    expect(e.hypervisor.cpuidBit).toBe(
      /\bhypervisor\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8')),
    );
    if (fs.existsSync('/proc/config.gz')) expect(e.kernelConfig).toMatch(/^[0-9a-f]{16}$/);
    const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
    if (fs.existsSync(thp))
      expect(e.thp.enabled).toBe(/\[(\w+)\]/.exec(fs.readFileSync(thp, 'utf8'))![1]);
    const c = conditionsSince(stealMsNow());
    expect(c.stealMs).toBeGreaterThanOrEqual(0);
    expect(c.load1).toBeGreaterThanOrEqual(0);
  });

  it('compare names each difference, and says when a file has none recorded', () => {
    expect(environmentWarnings(side('a', env, 1), side('b', env, 1.5))).toEqual([]);
    const other: BenchEnvironment = {
      ...env,
      cmdline: 'console=ttyS0 mitigations=off',
      thp: { ...env.thp, enabled: 'always' },
      kernelConfig: 'fedcba9876543210',
    };
    expect(environmentWarnings(side('a', env, 1), side('b', other, 9, 50))).toEqual([
      '/proc/cmdline differs: console=ttyS0 vs console=ttyS0 mitigations=off',
      'THP settings differs: {"enabled":"madvise","defrag":"madvise","shmemEnabled":"never"} vs {"enabled":"always","defrag":"madvise","shmemEnabled":"never"}',
      'kernel config digest differs: 0123456789abcdef vs fedcba9876543210',
      'load during the runs differs: mean 1-min load 1.00 vs 9.00',
      'steal time during the runs differs: 0.0% vs 5.0% of case time (all CPUs)',
    ]);
    expect(environmentWarnings(side('old.jsonl', undefined, 1), side('b', env, 1))).toEqual([
      'old.jsonl records no environment (written before it was recorded): differences unknown',
    ]);
  });
});
