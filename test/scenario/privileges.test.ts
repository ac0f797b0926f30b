/**
 * The built-in scenarios that set machine settings or drop root, run as a user runs them:
 * they pass on this kernel, and every setting reads as before afterwards, also when the
 * worker is killed mid-scenario (the parent writes the old values back).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/scenario/report/types.js';
import { SYSCTLS } from '../../src/scenario/sysctls.js';

const root = path.resolve(import.meta.dirname, '../..');
const isRoot = process.geteuid?.() === 0;

function validate(args: string[]) {
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'dist/cli/main.js'), 'validate', '--format', 'json', ...args],
    { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 },
  );
  return { code: r.status, report: JSON.parse(r.stdout) as RunReport, stderr: r.stderr };
}

function settings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, knob] of Object.entries(SYSCTLS))
    if (fs.existsSync(knob.path)) out[k] = fs.readFileSync(knob.path, 'utf8');
  return out;
}

describe('scenarios with sysctls, user and rlimits', () => {
  it.skipIf(!isRoot)('pass as root, and leave every setting as it was', () => {
    const before = settings();
    const r = validate(['--filter', 'sysctl-*']);
    const u = validate(['--filter', 'unpriv-*']);
    const all = [...r.report.results, ...u.report.results];
    expect(all.map((x) => [x.id, x.status, x.reason])).toEqual(
      all.map((x) => [x.id, 'pass', undefined]),
    );
    expect(r.report.results.length).toBeGreaterThanOrEqual(3);
    expect(u.report.results.length).toBeGreaterThanOrEqual(3);
    expect(settings()).toEqual(before);
  });

  it.skipIf(!isRoot)('the parent restores the settings of a worker it had to kill', () => {
    const before = settings();
    // 1 ms after it starts a scenario the worker is killed, whatever it has set by then.
    const r = validate(['--filter', 'sysctl-*', '--timeout', '1']);
    expect(r.report.results.length).toBeGreaterThanOrEqual(3);
    for (const x of r.report.results) expect(['pass', 'timeout']).toContain(x.status);
    expect(settings()).toEqual(before);
  });

  it.skipIf(!isRoot)(
    'Ctrl-C in the middle of a scenario: the parent writes the value back',
    async () => {
      const knob = SYSCTLS['vm.max_map_count']!.path;
      const before = fs.readFileSync(knob, 'utf8');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-sysctl-'));
      // Long enough to be caught with the setting in force: thousands of steps.
      const steps = [{ op: 'map', at: '@0', len: 8 }];
      for (let i = 0; i < 4000; i++) steps.push({ op: 'touch', at: `@${i % 8}` } as never);
      fs.writeFileSync(
        path.join(dir, 'slow.json'),
        JSON.stringify({
          id: 'slow-sysctl',
          title: 't',
          source: 'test',
          sysctls: { 'vm.max_map_count': '+1000' },
          arena: { pages: 8 },
          steps,
        }),
      );
      const p = spawn(process.execPath, [
        path.join(root, 'dist/cli/main.js'),
        'validate',
        '--suite',
        dir,
        '--format',
        'json',
      ]);
      let seen = false;
      for (let i = 0; i < 600 && !seen; i++) {
        await new Promise((r) => setTimeout(r, 50));
        seen = fs.readFileSync(knob, 'utf8') !== before;
      }
      p.kill('SIGINT');
      const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
      fs.rmSync(dir, { recursive: true, force: true });
      expect(seen).toBe(true);
      expect(code).toBe(130);
      expect(fs.readFileSync(knob, 'utf8')).toBe(before);
    },
  );

  it.skipIf(isRoot)('skip with the reason when not root', () => {
    const r = validate(['--filter', 'sysctl-*']);
    for (const x of r.report.results) {
      expect(x.status).toBe('skip');
      expect(x.reason).toMatch(/^needs root to set /);
    }
  });
});
