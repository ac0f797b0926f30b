/**
 * The kernel cache: one directory per kernel under $XDG_CACHE_HOME/mremap-lab/kernels
 * (~/.cache when unset), holding the image, its config, its modules and the initramfs
 * built for it, described by meta.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CachedKernel {
  /** Directory name in the cache. */
  id: string;
  /** `uname -r` of the image. */
  release: string;
  source: 'debian' | 'deb' | 'image';
  /** Debian package name and version, for kernels from the archive or a .deb. */
  package?: string;
  packageVersion?: string;
  /** Absolute paths. */
  vmlinuz: string;
  config: string | null;
  /** lib/modules/<release> of the image, or null when it has no modules. */
  modulesDir: string | null;
  initramfs: string;
  fetchedAt: string;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  // The XDG base-directory spec says relative values are invalid and must be ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env['HOME'] ?? os.homedir(), '.cache');
  return path.join(base, 'mremap-lab', 'kernels');
}

export function kernelDir(id: string, root = cacheRoot()): string {
  return path.join(root, id);
}

export function writeMeta(k: CachedKernel, root = cacheRoot()): void {
  fs.writeFileSync(
    path.join(kernelDir(k.id, root), 'meta.json'),
    `${JSON.stringify(k, null, 2)}\n`,
  );
}

/** Every complete entry; a directory without meta.json is a fetch that did not finish. */
export function listCached(root = cacheRoot()): CachedKernel[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: CachedKernel[] = [];
  for (const n of names) {
    try {
      out.push(
        JSON.parse(fs.readFileSync(path.join(root, n, 'meta.json'), 'utf8')) as CachedKernel,
      );
    } catch {
      // incomplete or foreign entry
    }
  }
  return out.sort((a, b) => compareVersions(a.release, b.release));
}

/** Numeric-aware order of version strings ("6.1.0-9" < "6.1.0-10"). */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
