/**
 * Turn a kernel spec into a cached kernel: "debian:…" names through apt, a .deb file, or
 * a kernel image (bzImage/vmlinuz) with its modules and config.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cacheRoot, kernelDir, listCached, writeMeta, type CachedKernel } from './cache.js';
import {
  downloadDeb,
  parseDebianSpec,
  releaseFamily,
  resolveDebian,
  type DebianSpec,
} from './debian.js';
import { VmInputError } from './errors.js';
import { buildBaseInitramfs } from './initramfs.js';
import { runTool } from './tools.js';

export interface ImageExtras {
  /** INSTALL_MOD_PATH of `make modules_install`, or its lib/modules/<release>. */
  modules?: string;
  config?: string;
}

export type KernelSpec =
  | { kind: 'debian'; spec: DebianSpec; text: string }
  | { kind: 'deb'; file: string }
  | { kind: 'image'; file: string };

export function parseKernelSpec(text: string): KernelSpec {
  if (text.startsWith('debian:')) {
    const spec = parseDebianSpec(text.slice('debian:'.length));
    if (!spec)
      throw new VmInputError(
        `kernel '${text}': expected debian:6.1, debian:6.12, debian:<package version> (e.g. debian:6.1.192-3) or debian:<package name>`,
      );
    return { kind: 'debian', spec, text };
  }
  if (!fs.existsSync(text))
    throw new VmInputError(
      `kernel '${text}': no such file; give a bzImage/vmlinuz path, a .deb, or a name such as debian:6.1 (mremap-lab kernel list shows the cache)`,
    );
  return text.endsWith('.deb')
    ? { kind: 'deb', file: path.resolve(text) }
    : { kind: 'image', file: path.resolve(text) };
}

/** A cached Debian kernel matching the spec, newest first; no network needed. */
export function findCachedDebian(spec: DebianSpec, root = cacheRoot()): CachedKernel | null {
  const hits = listCached(root).filter((k) => {
    if (k.source !== 'debian') return false;
    if (spec.kind === 'family') return releaseFamily(k.release) === spec.family;
    if (spec.kind === 'version') return k.packageVersion === spec.version;
    return k.package === spec.name;
  });
  return hits[hits.length - 1] ?? null;
}

/**
 * The kernel_version string a bzImage carries in its setup header (offset 0x20e holds its
 * position minus 0x200; Documentation/arch/x86/boot.rst), up to the first space.
 */
export function bzImageRelease(file: string): string | null {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(0x10000);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n < 0x210 || head.toString('latin1', 0x202, 0x206) !== 'HdrS') return null;
    const at = head.readUInt16LE(0x20e) + 0x200;
    const end = head.indexOf(0, at);
    if (at >= n || end < 0) return null;
    return head.toString('latin1', at, end).split(' ')[0] || null;
  } finally {
    fs.closeSync(fd);
  }
}

function freshDir(id: string, root: string): string {
  const dir = kernelDir(id, root);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function finish(k: Omit<CachedKernel, 'initramfs' | 'fetchedAt'>, root: string): CachedKernel {
  const initramfs = path.join(kernelDir(k.id, root), 'initramfs.cpio.gz');
  fs.writeFileSync(initramfs, buildBaseInitramfs(k.modulesDir, k.config));
  const done: CachedKernel = { ...k, initramfs, fetchedAt: new Date().toISOString() };
  writeMeta(done, root);
  return done;
}

/** Unpack a kernel .deb into the cache (the debs ship no modules.dep: depmod writes it). */
function fromDeb(
  deb: string,
  source: 'debian' | 'deb',
  root: string,
  pkg?: { name: string; version: string },
): CachedKernel {
  const staging = path.join(root, `.staging-${process.pid}`);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    runTool('dpkg-deb', ['-x', deb, staging]);
    const boot = path.join(staging, 'boot');
    const vmlinuz = fs.existsSync(boot)
      ? fs.readdirSync(boot).find((f) => f.startsWith('vmlinuz-'))
      : undefined;
    if (!vmlinuz)
      throw new VmInputError(`${deb} holds no boot/vmlinuz-*: is it a linux-image package?`);
    const release = vmlinuz.slice('vmlinuz-'.length);
    const id = source === 'debian' ? release : `deb-${release}`;
    const dir = freshDir(id, root);
    fs.renameSync(path.join(boot, vmlinuz), path.join(dir, 'vmlinuz'));
    const cfg = path.join(boot, `config-${release}`);
    const config = fs.existsSync(cfg) ? path.join(dir, 'config') : null;
    if (config) fs.renameSync(cfg, config);
    let modulesDir: string | null = null;
    const mods = path.join(staging, 'lib', 'modules', release);
    if (fs.existsSync(mods)) {
      fs.mkdirSync(path.join(dir, 'lib', 'modules'), { recursive: true });
      modulesDir = path.join(dir, 'lib', 'modules', release);
      fs.renameSync(mods, modulesDir);
      runTool('depmod', ['-b', dir, release]);
    }
    return finish(
      {
        id,
        release,
        source,
        ...(pkg ? { package: pkg.name, packageVersion: pkg.version } : {}),
        vmlinuz: path.join(dir, 'vmlinuz'),
        config,
        modulesDir,
      },
      root,
    );
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function findModulesDir(given: string, release: string): string {
  for (const d of [path.join(given, 'lib', 'modules', release), path.join(given, release), given]) {
    if (fs.existsSync(path.join(d, 'modules.dep')) || fs.existsSync(path.join(d, 'modules.order')))
      return d;
  }
  throw new VmInputError(
    `--modules ${given}: no lib/modules/${release}/modules.dep below it (run make modules_install INSTALL_MOD_PATH=${given})`,
  );
}

/** A config beside the image: /boot style config-<release>, or the build tree's .config. */
function findConfig(image: string, release: string): string | null {
  const dir = path.dirname(image);
  for (const c of [
    path.join(dir, `config-${release}`),
    path.resolve(dir, '../../../.config'),
    path.join(dir, '.config'),
  ])
    if (fs.existsSync(c)) return c;
  return null;
}

function fromImage(file: string, extras: ImageExtras, root: string): CachedKernel {
  const release = bzImageRelease(file);
  if (!release) throw new VmInputError(`${file} is not an x86 bzImage (no HdrS setup header)`);
  let modulesDir = extras.modules ? findModulesDir(path.resolve(extras.modules), release) : null;
  if (!modulesDir) {
    const beside = path.resolve(path.dirname(file), '..', 'lib', 'modules', release);
    if (fs.existsSync(beside)) modulesDir = beside;
  }
  if (modulesDir && !fs.existsSync(path.join(modulesDir, 'modules.dep')))
    runTool('depmod', ['-b', path.resolve(modulesDir, '../../..'), release]);
  const config = extras.config ? path.resolve(extras.config) : findConfig(file, release);
  if (config && !fs.existsSync(config)) throw new VmInputError(`--config ${config}: no such file`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 12);
  const id = `image-${release}-${hash}`;
  const dir = freshDir(id, root);
  fs.copyFileSync(file, path.join(dir, 'vmlinuz'));
  if (config) fs.copyFileSync(config, path.join(dir, 'config'));
  return finish(
    {
      id,
      release,
      source: 'image',
      vmlinuz: path.join(dir, 'vmlinuz'),
      config: config ? path.join(dir, 'config') : null,
      modulesDir,
    },
    root,
  );
}

export interface FetchOptions extends ImageExtras {
  /** Fetch again even when the cache has a match. */
  refresh?: boolean;
  root?: string;
  log?: (line: string) => void;
}

/** The cached kernel for a spec, fetching or building it first when needed. */
export function ensureKernel(text: string, opts: FetchOptions = {}): CachedKernel {
  const root = opts.root ?? cacheRoot();
  fs.mkdirSync(root, { recursive: true });
  const spec = parseKernelSpec(text);
  if (spec.kind === 'debian') {
    const cached = opts.refresh ? null : findCachedDebian(spec.spec, root);
    if (cached) return cached;
    const pkg = resolveDebian(spec.spec);
    const have = listCached(root).find(
      (k) => k.package === pkg.name && k.packageVersion === pkg.version,
    );
    if (have && !opts.refresh) return have;
    opts.log?.(`fetching ${pkg.name} ${pkg.version} with apt-get download`);
    const dl = path.join(root, `.download-${process.pid}`);
    fs.rmSync(dl, { recursive: true, force: true });
    fs.mkdirSync(dl, { recursive: true });
    try {
      return fromDeb(downloadDeb(pkg.name, pkg.version, dl), 'debian', root, pkg);
    } finally {
      fs.rmSync(dl, { recursive: true, force: true });
    }
  }
  if (spec.kind === 'deb') return fromDeb(spec.file, 'deb', root);
  return fromImage(spec.file, opts, root);
}
