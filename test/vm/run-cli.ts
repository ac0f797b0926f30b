/** The real binary, spawned as a user would run it, with an optional environment. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../dist/cli/main.js');

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeout?: number) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    ...(timeout ? { timeout } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
