/**
 * Colour only on a terminal, never with NO_COLOR: every table command's output, piped, holds
 * no escape sequence, even when CI=… (which makes picocolors colour pipes on its own).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wantColor } from '../../src/cli/color.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-color-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function piped(env: Record<string, string>, ...args: string[]) {
  const base = { ...process.env };
  delete base['NO_COLOR'];
  delete base['FORCE_COLOR'];
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...base, TERM: 'xterm-256color', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('wantColor', () => {
  it('is on for a terminal only, and off whenever NO_COLOR is set', () => {
    expect(wantColor({ isTTY: true }, {})).toBe(true);
    expect(wantColor({ isTTY: false }, {})).toBe(false);
    expect(wantColor({}, { CI: '1' })).toBe(false);
    expect(wantColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(wantColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});

describe('piped tables carry no colour', () => {
  const firstVma = fs.readFileSync('/proc/self/maps', 'utf8').split('\n')[0]!.split(' ')[0]!;
  const commands = (results: string): [string, string[]][] => [
    ['probe', ['probe']],
    ['maps', ['maps']],
    ['pagemap', ['pagemap', '--pid', String(process.pid), '--range', firstVma]],
    ['bench summary', ['bench', '--preset', 'quick', '--samples', '5', '--out', results]],
    ['compare', ['compare', results, results]],
  ];
  const envs: Record<string, string>[] = [{ CI: '1' }, { NO_COLOR: '1' }];
  for (const [k, env] of envs.entries()) {
    for (const [name, args] of commands(path.join(tmp, `${k}.jsonl`))) {
      it(`${name} with ${JSON.stringify(env)}`, () => {
        const r = piped(env, ...args);
        expect(r.stderr).not.toContain('mremap-lab:');
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBeGreaterThan(100);
        expect(r.stdout).not.toContain('\x1b[');
      });
    }
  }
});
