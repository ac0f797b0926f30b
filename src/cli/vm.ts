/**
 * `mremap-lab vm --kernel K -- <command>`: run one mremap-lab command inside a kernel image
 * under QEMU (docs/vm.md). Exit code: the inner command's; 3 when the guest gave no result
 * (did not boot, panicked, timed out); 2 for bad input or missing host tools.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { VmInputError } from '../vm/errors.js';
import { ensureKernel, type ImageExtras } from '../vm/fetch.js';
import { cliJob, GUEST_FAILED_EXIT, guestFailureText } from '../vm/guest.js';
import { runVm, type Accel } from '../vm/qemu.js';
import { findTool, staticBusybox } from '../vm/tools.js';
import { parseDuration } from './duration.js';

export const KERNEL_HELP =
  'bzImage/vmlinuz path, linux-image .deb, or debian:6.1 / debian:6.12 / debian:<version>';

export interface GuestOptions extends ImageExtras {
  mem: string;
  cpus: number;
  accel: Accel | 'auto';
  keep?: boolean;
  out?: string;
  console?: boolean;
}

export function parseMem(v: string): string {
  if (!/^\d+[MG]$/.test(v.trim()))
    throw new InvalidArgumentError(`expected a size such as 4G or 2048M, got "${v}"`);
  return v.trim();
}

export function parseCpus(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 64)
    throw new InvalidArgumentError('--cpus must be a whole number from 1 to 64');
  return n;
}

/** The options every --kernel command shares with vm. */
export function addGuestOptions(cmd: Command, timeoutFlag: '--timeout' | '--vm-timeout'): Command {
  return cmd
    .option(
      '--modules <dir>',
      'modules of a bzImage (its INSTALL_MOD_PATH, or lib/modules/<release>)',
    )
    .option(
      '--config <file>',
      'kernel config of a bzImage (probe reads it as /boot/config-<release>)',
    )
    .option('--mem <size>', 'guest memory', parseMem, '4G')
    .option('--cpus <n>', 'guest CPUs', parseCpus, Math.min(2, os.cpus().length))
    .addOption(
      new Option(`${timeoutFlag} <duration>`, 'kill a guest that runs longer (30s, 10m, 1h)')
        .argParser(parseDuration)
        .default(3_600_000, '1h'),
    )
    .addOption(
      new Option('--accel <accel>', 'kvm when /dev/kvm works, else tcg')
        .choices(['auto', 'kvm', 'tcg'])
        .default('auto'),
    )
    .option('--keep', 'keep the run directory (console.log, qemu.args) and print its path');
}

/** Host tools a guest needs, checked before anything is fetched or booted. */
export function checkHostTools(): void {
  if (os.arch() !== 'x64')
    throw new VmInputError(
      `vm boots x86-64 guests from this host's root; this host is ${os.arch()}`,
    );
  findTool('qemu-system-x86_64');
  staticBusybox();
}

export function registerVm(program: Command): void {
  const cmd = program
    .command('vm')
    .description('run a mremap-lab command inside another kernel under QEMU (docs/vm.md)')
    .argument('<command...>', 'the mremap-lab command and its options, after --');
  cmd.requiredOption('--kernel <kernel>', KERNEL_HELP);
  addGuestOptions(cmd, '--timeout')
    .option('--out <dir>', 'host directory the guest may write (default: the current directory)')
    .option('--console', 'also print the guest console (kernel log) on stderr')
    .addHelpText(
      'after',
      "\nExample: mremap-lab vm --kernel debian:6.12 -- validate --format ktap\nExit codes: the inner command's; 3 the guest gave no result; 2 bad input or missing tools.",
    )
    .action(async (args: string[], opts: GuestOptions & { kernel: string; timeout: number }) => {
      try {
        checkHostTools();
        const out = path.resolve(opts.out ?? process.cwd());
        if (!fs.statSync(out, { throwIfNoEntry: false })?.isDirectory())
          throw new VmInputError(`--out ${out}: not a directory`);
        const kernel = ensureKernel(opts.kernel, {
          ...opts,
          log: (l) => process.stderr.write(`mremap-lab vm: ${l}\n`),
        });
        const r = await runVm({
          kernel,
          job: cliJob(args, { cwd: process.cwd(), out, color: process.stdout.isTTY === true }),
          mem: opts.mem,
          cpus: opts.cpus,
          timeoutMs: opts.timeout,
          accel: opts.accel,
          stdout: process.stdout,
          stderr: process.stderr,
          ...(opts.console
            ? { onConsole: (l: string) => process.stderr.write(`console| ${l}\n`) }
            : {}),
          keep: opts.keep === true,
          log: (l) => process.stderr.write(`mremap-lab vm: ${l}\n`),
        });
        if (r.status === 'exit') {
          process.exitCode = r.exitCode ?? GUEST_FAILED_EXIT;
          return;
        }
        process.stderr.write(`${guestFailureText(opts.kernel, r)}\n`);
        process.exitCode = r.status === 'interrupted' ? 130 : GUEST_FAILED_EXIT;
      } catch (e) {
        if (!(e instanceof VmInputError)) throw e;
        process.stderr.write(`mremap-lab vm: ${e.message}\n`);
        process.exitCode = 2;
      }
    });
}
