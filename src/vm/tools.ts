import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { missingToolMessage, VmInputError } from './errors.js';

// depmod lives in /sbin on Debian, which a non-root PATH often lacks.
const EXTRA_DIRS = ['/usr/sbin', '/sbin'];

/** The absolute path of a host tool, or a VmInputError naming the package to install. */
export function findTool(name: string, searchPath = process.env['PATH'] ?? ''): string {
  for (const dir of [...searchPath.split(':').filter(Boolean), ...EXTRA_DIRS]) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not in this directory
    }
  }
  throw new VmInputError(missingToolMessage(name));
}

/**
 * An ELF executable without a PT_INTERP program header needs no dynamic loader, which is
 * what an initramfs that holds nothing else requires.
 */
export function isStaticElf(file: string): boolean {
  const b = fs.readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > b.length) return false;
    if (b.readUInt32LE(off) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

/** The busybox for the initramfs: it must be static, since nothing else is there. */
export function staticBusybox(): string {
  const p = findTool('busybox');
  if (!isStaticElf(fs.realpathSync(p)))
    throw new VmInputError(
      `${p} is dynamically linked and cannot run alone in an initramfs: install the Debian package busybox-static`,
    );
  return p;
}

/** Run a host tool to completion; its stdout, or an Error carrying its stderr. */
export function runTool(tool: string, args: string[], cwd?: string): string {
  const r = spawnSync(findTool(tool), args, { encoding: 'utf8', cwd, maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`${tool} ${args.join(' ')} failed: ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

/** Like runTool, for binary output (a decompressed module). */
export function runToolBuffer(tool: string, args: string[]): Buffer {
  const r = spawnSync(findTool(tool), args, { maxBuffer: 256 << 20 });
  if (r.status !== 0)
    throw new Error(`${tool} ${args.join(' ')} failed: ${r.stderr.toString().trim()}`);
  return r.stdout;
}
