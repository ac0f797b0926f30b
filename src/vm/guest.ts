/**
 * One mremap-lab command inside a guest: the Job for it (this package's own CLI, run by
 * this node binary from the read-only host root) and the one-line report of a guest that
 * gave no result. npx is no option there: npm chmods its linked bin, EROFS on 9p-ro.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from './initramfs.js';
import { CONSOLE_TAIL, type VmResult } from './qemu.js';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_MAIN = path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');

export function cliJob(args: string[], o: { cwd: string; out: string; color: boolean }): Job {
  const env: Record<string, string> = {};
  // The inner CLI writes into FIFOs, not a tty: keep colours when the host side is one.
  if (o.color) env['FORCE_COLOR'] = '1';
  if (process.env['NO_COLOR'] !== undefined) env['NO_COLOR'] = process.env['NO_COLOR'];
  return { cwd: o.cwd, out: o.out, argv: [process.execPath, CLI_MAIN, ...args], env };
}

const WHY: Record<Exclude<VmResult['status'], 'exit'>, string> = {
  timeout: 'outlived --timeout and was killed',
  'no-result': 'stopped without a result (no boot, a panic, or /init failed)',
  interrupted: 'was interrupted and killed',
};

/** What the user sees when the guest itself failed: why, then the console's last lines. */
export function guestFailureText(kernel: string, r: VmResult): string {
  const head = `mremap-lab vm: the ${kernel} guest (${r.accel}) ${WHY[r.status as keyof typeof WHY]} after ${(r.durationMs / 1000).toFixed(1)} s`;
  return [
    head,
    `last ${CONSOLE_TAIL} console lines:`,
    ...r.consoleTail.map((l) => `  | ${l}`),
  ].join('\n');
}

/** Exit code of `vm` when the guest gave no result (the inner command's codes are 0-2). */
export const GUEST_FAILED_EXIT = 3;
