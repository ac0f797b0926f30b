/**
 * Usage and input errors exit 2 before any work, with the command's own usage; output paths
 * are checked before the run, and a finding whose files cannot be written is printed in full.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/kernel/probe.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');
const multi = path.join(root, 'test/fixtures/scenarios/multi');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-exit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const aFile = path.join(tmp, 'a-file');
fs.writeFileSync(aFile, 'x');

function cli(...args: string[]) {
  // A hang (Node's recursive mkdir under /proc) ends as status null, not a stuck test.
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Option parsing itself is tested in process: test/cli/options.test.ts.
describe('input errors exit 2 before any work', () => {
  it('a --pid with no process', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    for (const cmd of [['maps'], ['pagemap', '--range', '1000-2000']]) {
      const r = cli(...cmd, '--pid', String(gone));
      expect(r.code, cmd[0]).toBe(2);
      expect(r.stderr).toContain(`bad --pid ${gone}: no such process`);
    }
  });

  it('validate -o into a missing directory, before the run', () => {
    const r = cli('validate', '--suite', multi, '-o', path.join(tmp, 'no/such/dir/r.txt'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot write -o ${path.join(tmp, 'no/such/dir/r.txt')}`);
    expect(r.stdout).toBe('');
  });

  it('report -o under /proc, and a results file without cases', () => {
    const results = path.join(tmp, 'r.jsonl');
    expect(cli('bench', '--preset', 'quick', '--samples', '3', '--out', results).code).toBe(0);
    const r = cli('report', results, '-o', '/proc/mrl-report.html');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot write -o /proc/mrl-report.html: ENOENT');
    const headerOnly = path.join(tmp, 'header-only.jsonl');
    fs.writeFileSync(headerOnly, fs.readFileSync(results, 'utf8').split('\n')[0] + '\n');
    const e = cli('report', headerOnly, '-o', path.join(tmp, 'r.html'));
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(`${headerOnly}: no case records, nothing to report`);
    expect(fs.existsSync(path.join(tmp, 'r.html'))).toBe(false);
  });

  it('bench --resume of a file that is not there', () => {
    const missing = path.join(tmp, 'missing.jsonl');
    const r = cli('bench', '--preset', 'quick', '--out', missing, '--resume');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--resume: ${missing} does not exist`);
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe('output paths', () => {
  it('fuzz --out under a file is refused before the search', () => {
    const r = cli('fuzz', '--seed', '1', '--runs', '1', '--out', path.join(aFile, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`fuzz: cannot write --out ${path.join(aFile, 'x')}: ENOTDIR`);
    expect(r.stderr).not.toContain('ops/s');
  });

  it('fuzz --out and validate --emit-c under /proc fail at once instead of hanging', () => {
    const f = cli('fuzz', '--seed', '1', '--runs', '1', '--out', '/proc/mrl-fuzz/x');
    expect(f.code).toBe(2);
    expect(f.stderr).toContain("ENOENT: no such file or directory, mkdir '/proc/mrl-fuzz'");
    const v = cli('validate', '--suite', multi, '--emit-c', '/proc/mrl-emit');
    expect(v.code).toBe(2);
    expect(v.stderr).toContain("ENOENT: no such file or directory, mkdir '/proc/mrl-emit'");
  });

  const [maj, min] = probe().release.split('.').map(Number) as [number, number];
  const multiVma = maj > 6 || (maj === 6 && min >= 17);
  it.skipIf(!multiVma)(
    'a finding whose files cannot be written is printed in full on stderr (needs 6.17+ for the linux-6.6 divergence)',
    () => {
      const out = path.join(tmp, 'finding');
      // A directory where the scenario JSON must go: the write fails after the search.
      fs.mkdirSync(path.join(out, 'fuzz-linux-6.6-s7.json'), { recursive: true });
      const r = cli('fuzz', '--seed', '7', '--runs', '300', '--profile', 'linux-6.6', '--out', out);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot write the finding to ${out}: EISDIR`);
      expect(r.stderr).toContain('replay: --seed 7');
      expect(r.stderr).toContain('Divergence at step');
      expect(r.stderr).toContain('"id": "fuzz-linux-6.6-s7"');
    },
  );
});
