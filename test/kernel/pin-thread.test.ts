/**
 * native.pinThread: the calling thread, and only it, ends up allowed on exactly the CPU it
 * names (the worker pool's per-CPU pinning, docs/scenarios.md). Run in a child process so
 * the test runner's own thread stays free.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

describe('pinThread', () => {
  it('pins the calling thread to the n-th allowed CPU, modulo their count', () => {
    const script = `
      const { native } = await import(${JSON.stringify(path.join(root, 'dist/native.js'))});
      const fs = await import('node:fs');
      const allowed = () => /Cpus_allowed_list:\\s*(\\S+)/.exec(fs.readFileSync('/proc/thread-self/status', 'utf8'))[1];
      const before = allowed();
      const r = native.pinThread(1);
      console.log(JSON.stringify({ before, r, after: allowed() }));
    `;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(out.stderr).toBe('');
    const { before, r, after } = JSON.parse(out.stdout) as {
      before: string;
      r: { ok: boolean; value: number };
      after: string;
    };
    // "0-3,6" → [0, 1, 2, 3, 6]
    const cpus = before.split(',').flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
    });
    expect(r).toEqual({ ok: true, value: cpus[1 % cpus.length] });
    expect(after).toBe(String(r.value));
  });
});
