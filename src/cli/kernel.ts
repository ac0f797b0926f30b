/**
 * `mremap-lab kernel fetch|list|path`: the cache of kernels the vm layer boots
 * (docs/vm.md). Bad names and missing tools exit 2 with one line saying what to do.
 */
import Table from 'cli-table3';
import { tableStyle } from './color.js';
import type { Command } from 'commander';
import { cacheRoot, kernelDir, listCached, type CachedKernel } from '../vm/cache.js';
import { VmInputError } from '../vm/errors.js';
import { ensureKernel, findCachedDebian, parseKernelSpec } from '../vm/fetch.js';
import { KERNEL_HELP } from './vm.js';

function guarded(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof VmInputError)) throw e;
    process.stderr.write(`mremap-lab kernel: ${e.message}\n`);
    process.exitCode = 2;
  }
}

/** A cached kernel by debian: name, cache id or release; no fetching. */
export function lookupCached(name: string): CachedKernel | null {
  const all = listCached();
  const direct = all.find((k) => k.id === name) ?? all.filter((k) => k.release === name).pop();
  if (direct) return direct;
  if (!name.startsWith('debian:')) return null;
  const spec = parseKernelSpec(name);
  return spec.kind === 'debian' ? findCachedDebian(spec.spec) : null;
}

export function registerKernel(program: Command): void {
  const kernel = program
    .command('kernel')
    .description(`the cache of kernels vm boots (${cacheRoot()})`);
  kernel
    .command('fetch')
    .description('fetch a Debian kernel, or take in a .deb or bzImage, and build its initramfs')
    .argument('<kernel...>', KERNEL_HELP)
    .option('--modules <dir>', 'modules of a bzImage (its INSTALL_MOD_PATH)')
    .option('--config <file>', 'kernel config of a bzImage')
    .option('--refresh', 'fetch again even when the cache has a match')
    .action((names: string[], opts: { modules?: string; config?: string; refresh?: boolean }) =>
      guarded(() => {
        for (const n of names) {
          const k = ensureKernel(n, {
            ...opts,
            log: (l) => process.stderr.write(`mremap-lab kernel: ${l}\n`),
          });
          process.stdout.write(`${n}\t${k.release}\t${kernelDir(k.id)}\n`);
        }
      }),
    );
  kernel
    .command('list')
    .description('list the cached kernels')
    .option('--json', 'print the cache entries as JSON')
    .action((opts: { json?: boolean }) => {
      const all = listCached();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        return;
      }
      const t = new Table({
        head: ['release', 'source', 'package version', 'fetched', 'path'],
        style: tableStyle(),
      });
      for (const k of all)
        t.push([
          k.release,
          k.source,
          k.packageVersion ?? '-',
          k.fetchedAt.slice(0, 10),
          kernelDir(k.id),
        ]);
      process.stdout.write(
        all.length ? `${t.toString()}\n` : `no kernels cached in ${cacheRoot()}\n`,
      );
    });
  kernel
    .command('path')
    .description('print the cache directory of a cached kernel')
    .argument('<kernel>', 'debian:6.1, debian:6.12, debian:<version>, a release or a cache id')
    .action((name: string) =>
      guarded(() => {
        const k = lookupCached(name);
        if (!k)
          throw new VmInputError(
            `${name} is not in the cache: run mremap-lab kernel fetch ${name}`,
          );
        process.stdout.write(`${kernelDir(k.id)}\n`);
      }),
    );
}
