import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelDir, writeMeta, type CachedKernel } from '../../src/vm/cache.js';
import { runCli } from './run-cli.js';

const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'mremap-lab-cache-'));
const root = path.join(xdg, 'mremap-lab', 'kernels');
afterAll(() => fs.rmSync(xdg, { recursive: true, force: true }));

function entry(release: string, packageVersion: string): CachedKernel {
  const dir = kernelDir(release, root);
  fs.mkdirSync(dir, { recursive: true });
  const k: CachedKernel = {
    id: release,
    release,
    source: 'debian',
    package: `linux-image-${release}`,
    packageVersion,
    vmlinuz: path.join(dir, 'vmlinuz'),
    config: null,
    modulesDir: null,
    initramfs: path.join(dir, 'initramfs.cpio.gz'),
    fetchedAt: '2026-01-02T03:04:05.000Z',
  };
  writeMeta(k, root);
  return k;
}

describe('kernel list/path on a cache (XDG_CACHE_HOME)', () => {
  entry('6.1.0-9-amd64', '6.1.27-1');
  entry('6.1.0-57-amd64', '6.1.192-3');
  entry('6.12.117+deb12-amd64', '6.12.117-1~deb12u1');
  fs.mkdirSync(path.join(root, 'half-fetched'));
  const env = { XDG_CACHE_HOME: xdg };

  it('list --json gives complete entries in version order', () => {
    const r = runCli(['kernel', 'list', '--json'], env);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as CachedKernel[]).map((k) => k.release)).toEqual([
      '6.1.0-9-amd64',
      '6.1.0-57-amd64',
      '6.12.117+deb12-amd64',
    ]);
  });

  it('path resolves a family to its newest cached kernel, a version exactly, without apt', () => {
    expect(runCli(['kernel', 'path', 'debian:6.1'], env).stdout).toBe(`${root}/6.1.0-57-amd64\n`);
    expect(runCli(['kernel', 'path', 'debian:6.1.27-1'], env).stdout).toBe(
      `${root}/6.1.0-9-amd64\n`,
    );
    expect(runCli(['kernel', 'path', '6.12.117+deb12-amd64'], env).stdout).toBe(
      `${root}/6.12.117+deb12-amd64\n`,
    );
  });

  it('path of a kernel not in the cache says how to fetch it, exit 2', () => {
    const r = runCli(['kernel', 'path', 'debian:6.6'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'mremap-lab kernel: debian:6.6 is not in the cache: run mremap-lab kernel fetch debian:6.6\n',
    );
  });
});
