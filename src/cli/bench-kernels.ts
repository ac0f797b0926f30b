/**
 * `bench --kernel A --kernel B …`: the same matrix on each kernel (`host` directly, the
 * others in vm guests), one results file per kernel, then `compare` of the first against
 * each other. bench.ts only adds the option and hands over here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { VmInputError } from '../vm/errors.js';
import { CLI_MAIN, GUEST_FAILED_EXIT } from '../vm/guest.js';
import { checkHostTools } from './vm.js';
import { commandArgs, GUEST_OPTIONS, stripOptions } from './argv.js';
import { commandInGuest, type KernelCommandOptions } from './kernel-option.js';

/** "bench-results/quick.jsonl" → "bench-results/quick-debian_6.1.jsonl". */
export function perKernelFile(base: string, kernel: string): string {
  const ext = path.extname(base) || '.jsonl';
  const tag = kernel.replace(/[^A-Za-z0-9.+_-]+/g, '_');
  return `${base.slice(0, base.length - path.extname(base).length)}-${tag}${ext}`;
}

export async function benchOnKernels(cmd: Command): Promise<void> {
  const o = cmd.opts<KernelCommandOptions & { out?: string; preset?: string }>();
  try {
    if (o.kernel.some((k) => k !== 'host')) checkHostTools();
    const args = stripOptions(commandArgs(cmd), { ...GUEST_OPTIONS, '--out': true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = path.resolve(
      o.out ?? path.join('bench-results', `${o.preset ?? 'quick'}-${stamp}.jsonl`),
    );
    fs.mkdirSync(path.dirname(base), { recursive: true });
    const files: string[] = [];
    let worst = 0;
    for (const k of o.kernel) {
      const file = perKernelFile(base, k === 'host' ? 'host' : k);
      process.stderr.write(`mremap-lab bench: kernel ${k} → ${file}\n`);
      let code: number;
      if (k === 'host') {
        code =
          spawnSync(process.execPath, [CLI_MAIN, ...args, '--out', file], { stdio: 'inherit' })
            .status ?? GUEST_FAILED_EXIT;
      } else {
        ({ code } = await commandInGuest(k, [...args, '--out', file], path.dirname(file), o));
      }
      worst = Math.max(worst, code);
      if (fs.existsSync(file)) files.push(file);
    }
    for (const other of files.slice(1)) {
      process.stdout.write(`\ncompare ${files[0]} ${other}\n`);
      spawnSync(process.execPath, [CLI_MAIN, 'compare', files[0]!, other], { stdio: 'inherit' });
    }
    process.exitCode = files.length < o.kernel.length ? Math.max(worst, GUEST_FAILED_EXIT) : worst;
  } catch (e) {
    if (!(e instanceof VmInputError)) throw e;
    process.stderr.write(`mremap-lab bench: ${e.message}\n`);
    process.exitCode = 2;
  }
}
