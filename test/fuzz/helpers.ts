/** What the fuzz search test and the fuzz command test share. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const bin = path.resolve(import.meta.dirname, '../../dist/cli/main.js');

/** The built CLI, spawned; a run past two minutes ends as status null. */
export function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// linux-6.6 predicts what 6.17+ kernels do differently (the validation order, multi-VMA
// moves); on older kernels it is the right profile and there is nothing to catch.
export const before617 = (() => {
  const [maj, min] = fs
    .readFileSync('/proc/sys/kernel/osrelease', 'utf8')
    .split('.')
    .map(Number) as [number, number];
  return maj < 6 || (maj === 6 && min < 17);
})();
