import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildJobArchive, shellQuote } from '../../src/vm/initramfs.js';
import { findTool, isStaticElf } from '../../src/vm/tools.js';
import { missingToolMessage, VmInputError } from '../../src/vm/errors.js';
import { qemuArgs } from '../../src/vm/qemu.js';
import type { CachedKernel } from '../../src/vm/cache.js';
import { runCli } from './run-cli.js';

describe('host tools', () => {
  it('a missing tool names the Debian package to install', () => {
    expect(() => findTool('qemu-system-x86_64', '/nonexistent')).toThrow(VmInputError);
    expect(missingToolMessage('qemu-system-x86_64')).toBe(
      'qemu-system-x86_64 not found: install the Debian package qemu-system-x86 (all at once: apt-get install qemu-system-x86 busybox-static)',
    );
    expect(missingToolMessage('depmod')).toBe('depmod not found: install the Debian package kmod');
  });

  it('vm without qemu on PATH: one line, exit 2', () => {
    const r = runCli(['vm', '--kernel', 'debian:6.1', '--', 'probe'], { PATH: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mremap-lab vm: ${missingToolMessage('qemu-system-x86_64')}\n`);
  });

  it('a dynamically linked executable is not static (node is not)', () => {
    expect(isStaticElf(fs.realpathSync(process.execPath))).toBe(false);
  });
});

describe('guest job', () => {
  it('shell quoting keeps every argument literal', () => {
    expect(shellQuote("it's $HOME `x`")).toBe(`'it'\\''s $HOME \`x\`'`);
    const r = spawnSync('sh', ['-c', `printf %s ${shellQuote("a 'b' $c")}`], { encoding: 'utf8' });
    expect(r.stdout).toBe("a 'b' $c");
  });

  it('the per-run archive carries settings and the command script', () => {
    const gz = buildJobArchive({
      cwd: '/work/x',
      out: '/work/out',
      argv: ['/usr/bin/node', '/pkg/dist/cli/main.js', 'probe', '--json'],
      env: { MREMAP_LAB_ACCEL: 'tcg' },
    });
    const text = spawnSync('sh', ['-c', 'zcat | cpio -i --to-stdout 2>/dev/null'], {
      input: gz,
    }).stdout.toString();
    expect(text).toBe(
      [
        "CWD='/work/x'",
        "OUT='/work/out'",
        "export HOME='/tmp'",
        "export PATH='/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'",
        "export MREMAP_LAB_ACCEL='tcg'",
        'K=/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs; [ -w $K ] && echo 4294967295 > $K',
        "cd '/work/x' || exit 125",
        "exec '/usr/bin/node' '/pkg/dist/cli/main.js' 'probe' '--json'",
        '',
      ].join('\n'),
    );
  });

  it('QEMU gets the documented machine: accel, la57 off, 9p shares, three serial sockets', () => {
    const k = { vmlinuz: '/c/vmlinuz' } as CachedKernel;
    const a = qemuArgs(k, '/r/initrd', {
      mem: '4G',
      cpus: 2,
      accel: 'tcg',
      out: '/o',
      sockets: ['/r/a', '/r/b', '/r/c'],
    });
    const after = (flag: string) => a.filter((_, i) => a[i - 1] === flag);
    expect(after('-accel')).toEqual(['tcg,thread=single']);
    expect(after('-cpu')).toEqual(['max,la57=off']);
    expect(after('-serial')).toEqual(['chardev:s0', 'chardev:s1', 'chardev:s2']);
    expect(after('-fsdev')).toEqual([
      'local,id=root,path=/,readonly=on,security_model=none,multidevs=remap',
      'local,id=out,path=/o,security_model=none,multidevs=remap',
    ]);
    expect(after('-kernel')).toEqual(['/c/vmlinuz']);
    expect(after('-initrd')).toEqual(['/r/initrd']);
  });
});

describe('vm and kernel CLI input errors', () => {
  it('an unknown debian name exits 2 with the accepted forms', () => {
    const r = runCli(['kernel', 'fetch', 'debian:latest']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mremap-lab kernel: kernel 'debian:latest': expected debian:6\.1/);
  });

  it('a bad --mem is a usage error', () => {
    const r = runCli(['vm', '--kernel', 'debian:6.1', '--mem', 'lots', '--', 'probe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected a size such as 4G or 2048M, got "lots"');
  });
});
