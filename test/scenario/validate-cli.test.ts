/**
 * validate end to end through the real binary: the differ catches a wrong model, the
 * isolation turns a crash into a result, bad input is exit 2 with file and JSON path.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/scenario/report/types.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');
const fixtures = path.join(root, 'test/fixtures/scenarios');

function validate(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, 'validate', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type JsonReport = Pick<RunReport, 'profile' | 'results'>;

describe('validate', () => {
  it('passes the multi-VMA fixture under the auto profile on this kernel', () => {
    const r = validate(['--suite', path.join(fixtures, 'multi'), '--format', 'json']);
    const rep = JSON.parse(r.stdout) as JsonReport;
    const multi = rep.results[0]!;
    // 6.17+ kernels move both VMAs; older ones return EFAULT — either way the auto profile agrees.
    expect(multi.status).toBe('pass');
    expect(r.code).toBe(0);
  });

  it('catches a deliberately wrong profile and reports step, call, both results and layouts', () => {
    const r = validate([
      '--suite',
      path.join(fixtures, 'multi'),
      '--format',
      'json',
      '--profile',
      'linux-6.6',
    ]);
    const rep = JSON.parse(r.stdout) as JsonReport;
    const res = rep.results[0]!;
    // linux-6.6 predicts EFAULT for a move spanning two VMAs; 6.17+ kernels do it.
    const [maj, min] = fs
      .readFileSync('/proc/sys/kernel/osrelease', 'utf8')
      .split('.')
      .map(Number) as [number, number];
    if (maj < 6 || (maj === 6 && min < 17)) {
      expect(res.status).toBe('pass'); // an older kernel agrees with linux-6.6
      return;
    }
    expect(r.code).toBe(1);
    expect(res.status).toBe('fail');
    const d = res.divergence!;
    expect(d).toBeDefined();
    expect(d.step).toBe(3);
    expect(d.call).toBe('mremap(@0, 5 pages, 5 pages, MAYMOVE|FIXED, @32)');
    expect(d.kernel).toBe('@32');
    expect(d.model).toBe('-1 EFAULT');
    expect(d.kernelLayout).toContain('A [@32, @34) rw-p anon');
    expect(d.modelLayout).toContain('A [@0, @2) rw-p anon');
    expect(d.explain).toContain('EFAULT');
  });

  it('reports a crashed worker as a crash and runs the rest', () => {
    const r = validate(
      [
        '--suite',
        path.join(fixtures, 'multi'),
        'builtin',
        '--filter',
        'fixture-*',
        '--format',
        'json',
      ],
      {
        MREMAP_LAB_CRASH_SCENARIO: 'fixture-multi-vma-move',
      },
    );
    const rep = JSON.parse(r.stdout) as JsonReport;
    expect(rep.results.map((x) => [x.id, x.status])).toEqual([['fixture-multi-vma-move', 'crash']]);
    expect(rep.results[0]!.reason).toContain('SIGABRT');
    expect(r.code).toBe(1);
    const both = validate(
      [
        '--suite',
        path.join(fixtures, 'multi'),
        'builtin',
        '--filter',
        '*multi-vma-move',
        '--format',
        'json',
        '--jobs',
        '1',
      ],
      {
        MREMAP_LAB_CRASH_SCENARIO: 'fixture-multi-vma-move',
      },
    );
    const statuses = (JSON.parse(both.stdout) as JsonReport).results.map((x) => x.status);
    expect(statuses[0]).toBe('crash');
    expect(statuses.slice(1).every((s) => s === 'pass' || s === 'skip')).toBe(true);
  });

  it('reports a timeout and carries on', () => {
    const r = validate([
      '--suite',
      path.join(fixtures, 'multi'),
      '--format',
      'json',
      '--timeout',
      '1',
    ]);
    const rep = JSON.parse(r.stdout) as JsonReport;
    expect(rep.results[0]!.status).toBe('timeout');
    expect(r.code).toBe(1);
  });

  it('a malformed scenario is exit 2 with the file, the JSON path and what is expected', () => {
    const r = validate(['--suite', path.join(fixtures, 'bad'), path.join(fixtures, 'multi')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'bad-flag.json at $.steps[1].flags[1]: unknown mremap flag "TELEPORT"',
    );
    // The other scenarios still run and the report lists the file that did not load.
    expect(r.stdout).toMatch(/^PASS fixture-multi-vma-move: /m);
    expect(r.stdout).toMatch(/^INPUT .*bad-flag\.json at \$\.steps\[1\]\.flags\[1\]: /m);
    expect(r.stdout).toContain('1 passed, 0 failed, 0 skipped, 1 not loaded');
  });

  it('with a bad file, JSON, KTAP and JUnit are still whole documents that list it (exit 2)', () => {
    const suite = ['--suite', path.join(fixtures, 'bad'), path.join(fixtures, 'multi')];
    const j = validate([...suite, '--format', 'json']);
    expect(j.code).toBe(2);
    const rep = JSON.parse(j.stdout) as RunReport;
    expect(rep.results.map((x) => [x.id, x.status])).toEqual([['fixture-multi-vma-move', 'pass']]);
    expect(rep.loadErrors).toEqual([
      {
        file: path.join(fixtures, 'bad/bad-flag.json'),
        path: '$.steps[1].flags[1]',
        message: expect.stringContaining('unknown mremap flag "TELEPORT"'),
      },
    ]);
    const k = validate([...suite, '--format', 'ktap']);
    expect(k.code).toBe(2);
    expect(k.stdout).toMatch(/^1\.\.2$/m);
    expect(k.stdout).toMatch(/^ok 1 fixture-multi-vma-move$/m);
    expect(k.stdout).toMatch(/^not ok 2 bad-flag\.json$/m);
    const u = validate([...suite, '--format', 'junit']);
    expect(u.code).toBe(2);
    expect(u.stdout).toContain('tests="2" failures="0" errors="1" skipped="0"');
    expect(u.stdout).toContain(
      '<error type="input" message="$.steps[1].flags[1]: unknown mremap flag',
    );
    expect(u.stdout.trimEnd().endsWith('</testsuites>')).toBe(true);
  });

  it('--model-only runs the RELOCATE_ANON scenarios against the RFC profile without asking the kernel', () => {
    const r = validate([
      '--model-only',
      '--profile',
      'relocate-anon-rfc',
      '--filter',
      'relocate-*',
      '--format',
      'json',
    ]);
    const rep = JSON.parse(r.stdout) as JsonReport;
    expect(rep.results.length).toBeGreaterThanOrEqual(10);
    expect(rep.results.filter((x) => x.status !== 'pass').map((x) => x.id)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('compares memory the kernel placed outside the arena (MAYMOVE without FIXED)', () => {
    const r = validate(['--filter', 'expand-blocked-maymove-no-hint', '--format', 'json']);
    const rep = JSON.parse(r.stdout) as JsonReport;
    expect(rep.results.map((x) => x.status)).toEqual(['pass']);
    // The moved 8 pages sit outside the arena; both compared layouts list them.
    const res = rep.results[0]!;
    expect(res.kernelLayout).toMatch(/B \[0x[0-9a-f]+, 0x[0-9a-f]+\) rw-p anon/);
    expect(res.modelLayout).toBe(res.kernelLayout);
  });

  it('an unknown profile or format is a usage error', () => {
    expect(validate(['--profile', 'linux-9.9']).code).toBe(2);
    expect(validate(['--format', 'yaml']).code).toBe(2);
  });

  it('writes KTAP and JUnit', () => {
    const k = validate(['--suite', path.join(fixtures, 'multi'), '--format', 'ktap']);
    expect(k.stdout.split('\n').slice(0, 3)).toEqual([
      'KTAP version 1',
      expect.stringMatching(/^# mremap-lab: kernel /),
      '1..1',
    ]);
    expect(k.stdout).toMatch(/^ok 1 fixture-multi-vma-move$/m);
    const j = validate(['--suite', path.join(fixtures, 'multi'), '--format', 'junit']);
    expect(j.stdout).toContain(
      '<testcase classname="mremap-lab.fixture" name="fixture-multi-vma-move"',
    );
    expect(j.stdout).toContain('tests="1" failures="0" errors="0" skipped="0"');
  });
});
