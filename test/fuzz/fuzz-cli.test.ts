/**
 * The fuzz command as a user runs it: a finding under a wrong profile exits 1 with its
 * files named in the JSON summary; --time stops on time. Its option errors are tested in
 * process (test/cli/options.test.ts); the search itself in fuzz.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { before617, cli } from './helpers.js';

describe('fuzz command', () => {
  it.skipIf(before617)(
    'finds, shrinks and writes a finding with exit 1 under a wrong profile (--json)',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-fuzz-cli-'));
      try {
        const r = cli([
          'fuzz',
          '--seed',
          '7',
          '--runs',
          '300',
          '--profile',
          'linux-6.6',
          '--out',
          dir,
          '--json',
          '--shrink-time',
          '15s',
        ]);
        expect(r.code).toBe(1);
        const out = JSON.parse(r.stdout) as {
          runs: number;
          divergence: { files: { json: string; c: string; report: string }; step: number };
        };
        expect(out.runs).toBeGreaterThan(0);
        expect(fs.existsSync(out.divergence.files.json)).toBe(true);
        expect(fs.existsSync(out.divergence.files.c)).toBe(true);
        expect(r.stderr).toContain('ops/s');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('a --time run stops on time', () => {
    const t0 = Date.now();
    const r = cli(['fuzz', '--seed', '3', '--time', '1s', '--profile', 'linux-6.18', '--json']);
    expect([0, 1]).toContain(r.code);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect((JSON.parse(r.stdout) as { runs: number }).runs).toBeGreaterThan(0);
  });
});
