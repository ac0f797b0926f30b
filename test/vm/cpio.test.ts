import { describe, expect, it } from 'vitest';
import { cpioArchive, S_IFDIR, S_IFREG } from '../../src/vm/cpio.js';

/** Read a newc archive back: the fields the kernel's initramfs unpacker reads. */
function parse(b: Buffer): { name: string; mode: number; data: string }[] {
  const out: { name: string; mode: number; data: string }[] = [];
  let off = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    expect(b.toString('latin1', off, off + 6)).toBe('070701');
    const field = (i: number) =>
      parseInt(b.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const namesize = field(11);
    const name = b.toString('latin1', off + 110, off + 110 + namesize - 1);
    const dataAt = align(off + 110 + namesize);
    if (name === 'TRAILER!!!') break;
    out.push({ name, mode, data: b.toString('latin1', dataAt, dataAt + size) });
    off = align(dataAt + size);
  }
  return out;
}

describe('cpio newc', () => {
  it('round-trips names, modes and data with 4-byte alignment', () => {
    const a = cpioArchive([
      { name: 'bin', mode: S_IFDIR | 0o755 },
      { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from('#!/bin/sh\n') },
      { name: 'x', mode: S_IFREG | 0o644, data: Buffer.from('12345') },
    ]);
    expect(parse(a)).toEqual([
      { name: 'bin', mode: 0o40755, data: '' },
      { name: 'init', mode: 0o100755, data: '#!/bin/sh\n' },
      { name: 'x', mode: 0o100644, data: '12345' },
    ]);
    expect(a.length % 4).toBe(0);
  });
});
