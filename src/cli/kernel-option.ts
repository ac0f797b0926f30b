/**
 * The --kernel option of validate, fuzz and bench, and (for fuzz) the plain run of the
 * same command in each guest.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { VmInputError } from '../vm/errors.js';
import { ensureKernel } from '../vm/fetch.js';
import { cliJob, GUEST_FAILED_EXIT, guestFailureText } from '../vm/guest.js';
import { runVm } from '../vm/qemu.js';
import { addGuestOptions, checkHostTools, type GuestOptions } from './vm.js';
import { commandArgs, GUEST_OPTIONS, stripOptions } from './argv.js';

export function collectKernel(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Adds --kernel (repeatable) and the guest options to a command. */
export function addKernelOption(cmd: Command): Command {
  cmd.option(
    '--kernel <kernel>',
    'run on this kernel: host, debian:6.1, debian:6.12, a .deb or a bzImage (repeatable; docs/vm.md)',
    collectKernel,
  );
  return addGuestOptions(cmd, '--vm-timeout');
}

export type KernelCommandOptions = GuestOptions & { kernel: string[]; vmTimeout: number };

/**
 * One mremap-lab command in the guest of kernel k, its output streamed to ours, out the
 * writable share. The exit code is the command's, or 3 (130 on Ctrl-C) when the guest gave
 * no result, whose console tail is then printed.
 */
export async function commandInGuest(
  k: string,
  args: string[],
  out: string,
  o: KernelCommandOptions,
): Promise<{ code: number; interrupted: boolean }> {
  const r = await runVm({
    kernel: ensureKernel(k, { ...o, log: (l) => process.stderr.write(`mremap-lab: ${l}\n`) }),
    job: cliJob(args, { cwd: process.cwd(), out, color: process.stdout.isTTY === true }),
    mem: o.mem,
    cpus: o.cpus,
    timeoutMs: o.vmTimeout,
    accel: o.accel,
    stdout: process.stdout,
    stderr: process.stderr,
    keep: o.keep === true,
    log: (l) => process.stderr.write(`mremap-lab vm: ${l}\n`),
  });
  if (r.status === 'exit') return { code: r.exitCode ?? GUEST_FAILED_EXIT, interrupted: false };
  process.stderr.write(`${guestFailureText(k, r)}\n`);
  const interrupted = r.status === 'interrupted';
  return { code: interrupted ? 130 : GUEST_FAILED_EXIT, interrupted };
}

/**
 * `fuzz --kernel K …`: the same command in each guest in turn, its output streamed, the
 * highest exit code kept. The directory of `--out` (else the current one) is the writable
 * share, so findings land on the host.
 */
export async function runOnKernels(cmd: Command): Promise<void> {
  const o = cmd.opts<KernelCommandOptions & { out?: string }>();
  try {
    checkHostTools();
    const args = stripOptions(commandArgs(cmd), GUEST_OPTIONS);
    let out = process.cwd();
    if (o.out) {
      out = path.resolve(o.out);
      fs.mkdirSync(out, { recursive: true });
    }
    let worst = 0;
    for (const k of o.kernel) {
      if (k === 'host') throw new VmInputError(`--kernel host: run ${cmd.name()} without --kernel`);
      process.stderr.write(`mremap-lab ${cmd.name()}: kernel ${k}\n`);
      const { code, interrupted } = await commandInGuest(k, args, out, o);
      worst = Math.max(worst, code);
      if (interrupted) break;
    }
    process.exitCode = worst;
  } catch (e) {
    if (!(e instanceof VmInputError)) throw e;
    process.stderr.write(`mremap-lab ${cmd.name()}: ${e.message}\n`);
    process.exitCode = 2;
  }
}
