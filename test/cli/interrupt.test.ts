/**
 * Ctrl-C (SIGINT to the whole process group, as a terminal sends it) on validate and fuzz:
 * what finished is printed, the fuzz seed is not lost, and the exit code is 130.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/scenario/report/types.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in its own process group and sends the group SIGINT once stderr matches. */
function interruptWhen(args: string[], ready: RegExp, delayMs: number): Promise<Ended> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, ...args], {
      detached: true,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    // A CLI that never gets ready must not hang the suite: the group is killed and the
    // assertions below fail on the missing output.
    const limit = setTimeout(() => process.kill(-c.pid!, 'SIGKILL'), 90_000);
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && ready.test(stderr)) {
        sent = true;
        setTimeout(() => process.kill(-c.pid!, 'SIGINT'), delayMs);
      }
    });
    c.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('SIGINT', () => {
  it('validate prints the finished scenarios and names the rest (exit 130)', async () => {
    // --jobs 1000 makes validate say "using N" just before the run starts.
    const r = await interruptWhen(
      ['validate', '--jobs', '1000', '--format', 'json'],
      /is more than the \d+ CPU/,
      1500,
    );
    expect([r.code, r.signal]).toEqual([130, null]);
    const rep = JSON.parse(r.stdout) as RunReport;
    expect(rep.notRun!.length).toBeGreaterThan(0);
    // The workers got the same SIGINT: none of them may turn into a false crash.
    for (const x of rep.results) expect(['pass', 'skip'], x.id).toContain(x.status);
    const ids = [...rep.results.map((x) => x.id), ...rep.notRun!].sort();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(100);
    expect(r.stderr).toContain(
      `interrupted (SIGINT): ${rep.results.length} of ${ids.length} scenarios finished`,
    );
  });

  it('fuzz prints the summary with its time-based seed (exit 130)', async () => {
    // Without a TTY the progress line comes every 5 s: by then cases have run.
    const r = await interruptWhen(['fuzz', '--time', '120s', '--json'], /fuzz: search /, 0);
    expect([r.code, r.signal]).toEqual([130, null]);
    const seed = /^fuzz: seed (\d+) \(replay with --seed \1\)$/m.exec(r.stderr)?.[1];
    expect(seed).toBeDefined();
    const out = JSON.parse(r.stdout) as { seed: number; runs: number; interrupted: boolean };
    expect(out.seed).toBe(Number(seed));
    expect(out.interrupted).toBe(true);
    expect(out.runs).toBeGreaterThan(0);
  });

  it('fuzz in text mode says how to run the search again', async () => {
    const r = await interruptWhen(['fuzz', '--seed', '11', '--time', '120s'], /fuzz: search /, 0);
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('mremap-lab fuzz: seed 11,');
    expect(r.stdout).toMatch(/INTERRUPTED \(SIGINT\): \d+ runs finished; run again with --seed 11/);
  });
});
