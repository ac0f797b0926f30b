import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheRoot, compareVersions } from '../../src/vm/cache.js';
import { familyPackages, parseDebianSpec, releaseFamily } from '../../src/vm/debian.js';
import { bzImageRelease, parseKernelSpec } from '../../src/vm/fetch.js';
import { VmInputError } from '../../src/vm/errors.js';

describe('kernel cache location', () => {
  it('honours XDG_CACHE_HOME, else ~/.cache', () => {
    expect(cacheRoot({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe(
      '/x/cache/mremap-lab/kernels',
    );
    expect(cacheRoot({ HOME: '/home/u' })).toBe('/home/u/.cache/mremap-lab/kernels');
  });

  it('ignores a relative XDG_CACHE_HOME, as the base-directory spec requires', () => {
    expect(cacheRoot({ XDG_CACHE_HOME: 'rel/cache', HOME: '/home/u' })).toBe(
      '/home/u/.cache/mremap-lab/kernels',
    );
  });
});

describe('kernel names', () => {
  it('debian: family, package version and package name', () => {
    expect(parseDebianSpec('6.1')).toEqual({ kind: 'family', family: '6.1' });
    expect(parseDebianSpec('6.12.117-1~deb12u1')).toEqual({
      kind: 'version',
      family: '6.12',
      version: '6.12.117-1~deb12u1',
    });
    expect(parseDebianSpec('linux-image-6.1.0-57-amd64')).toEqual({
      kind: 'package',
      name: 'linux-image-6.1.0-57-amd64',
    });
    expect(parseDebianSpec('latest')).toBeNull();
  });

  it('a bad name or a missing file is a VmInputError saying what is accepted', () => {
    expect(() => parseKernelSpec('debian:latest')).toThrow(VmInputError);
    expect(() => parseKernelSpec('debian:latest')).toThrow(/expected debian:6\.1, debian:6\.12/);
    expect(() => parseKernelSpec('/no/such/bzImage')).toThrow(/no such file/);
  });

  it('a family picks the generic amd64 flavour, newest ABI by number', () => {
    const names = [
      'linux-image-6.1.0-9-amd64',
      'linux-image-6.1.0-57-amd64',
      'linux-image-6.1.0-57-cloud-amd64',
      'linux-image-6.1.0-57-rt-amd64',
      'linux-image-6.1.0-57-amd64-dbg',
      'linux-image-6.1.0-57-amd64-unsigned',
      'linux-image-6.12.9+deb12-amd64',
      'linux-image-6.12.117+deb12-amd64',
      'linux-image-6.12.117+deb12-amd64-unsigned',
    ];
    expect(familyPackages('6.1', names)).toEqual([
      'linux-image-6.1.0-9-amd64',
      'linux-image-6.1.0-57-amd64',
    ]);
    expect(familyPackages('6.12', names)).toEqual([
      'linux-image-6.12.9+deb12-amd64',
      'linux-image-6.12.117+deb12-amd64',
    ]);
    expect(releaseFamily('6.12.117+deb12-amd64')).toBe('6.12');
    expect(compareVersions('6.1.0-9-amd64', '6.1.0-10-amd64')).toBeLessThan(0);
  });

  it("a bzImage's release comes from its setup header", () => {
    const img = Buffer.alloc(0x4000);
    img.write('HdrS', 0x202, 'latin1');
    img.writeUInt16LE(0x3000 - 0x200, 0x20e);
    img.write('6.18.0-rc1-test (me@host) #1 SMP\0', 0x3000, 'latin1');
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mremap-lab-test-')), 'bzImage');
    fs.writeFileSync(f, img);
    expect(bzImageRelease(f)).toBe('6.18.0-rc1-test');
    fs.writeFileSync(f, Buffer.alloc(0x4000));
    expect(bzImageRelease(f)).toBeNull();
    fs.rmSync(path.dirname(f), { recursive: true });
  });
});
