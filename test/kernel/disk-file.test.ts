/**
 * The `file` step's kernel side: a regular file in TMPDIR on a disk filesystem, unlinked at
 * once (nothing left behind, even if the run dies), every page written and cached. And a
 * memfd's initial contents, pwritten before it is mapped. Checked through /proc/self/maps
 * (a path with an inode on the filesystem's device, not the memfd name) and the data.
 */
import { readdirSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { diskFileDir } from '../../src/kernel/disk-file.js';
import { KernelSpace } from '../../src/kernel/kernel-space.js';
import { readMaps } from '../../src/kernel/maps.js';
import { MADV, MAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

const P = PAGE_SIZE;
const RW = PROT.READ | PROT.WRITE;
const where = diskFileDir();
const why = 'why' in where ? where.why : '';

let arena: Arena;
let space: KernelSpace;
beforeEach(() => {
  arena = Arena.reserve({ size: 64n * P, interior: 'empty' });
  space = new KernelSpace(arena);
});
afterEach(() => {
  space.dispose();
  arena.release();
});

function mapsAt(addr: bigint) {
  const m = readMaps(process.pid);
  if (!m.ok) throw new Error(m.code);
  return m.value.find((e) => e.start === addr)!;
}

describe.skipIf(why !== '')(`disk files ${why ? `(skipped: ${why})` : ''}`, () => {
  const dir = 'dir' in where ? where.dir : '';
  const ours = () => readdirSync(dir).filter((f) => f.startsWith(`mremap-lab-${process.pid}-`));

  it('is a regular file on TMPDIR’s device, unlinked, with every page cached and tagged', () => {
    const f = space.diskFile(8n * P, new Map([[3, 0x33n]]));
    if (!f.ok) throw new Error(f.code);
    expect(ours()).toEqual([]);
    const a = arena.page(0);
    const r = space.map({
      addr: a,
      length: 8n * P,
      prot: RW,
      flags: MAP.SHARED | MAP.FIXED,
      file: f.value,
    });
    expect(r).toEqual({ ok: true, value: a });
    const e = mapsAt(a);
    expect(e.inode).not.toBe(0n);
    expect(e.deleted).toBe(true);
    expect(e.path!.startsWith(`${dir}/mremap-lab-${process.pid}-`)).toBe(true);
    const dev = statSync(dir).dev;
    expect((e.devMajor << 8) | e.devMinor).toBe(Number(dev) & 0xfffff);
    // Every page cached: one read fault maps the whole fault-around window (16 pages ≥ 8).
    expect(space.read(a + 3n * P)).toEqual({ ok: true, value: 0x33n });
    const pages = space.snapshot(a, a + 8n * P).pages;
    expect(pages.map((p) => p.present)).toEqual(Array(8).fill(true));
    expect(space.snapshot(a, a + P).vmas[0]).toMatchObject({
      kind: 'file',
      shared: true,
      offset: 0n,
    });
  });

  it('MADV_REMOVE punches the hole (ext4, xfs and btrfs can)', () => {
    const f = space.diskFile(4n * P);
    if (!f.ok) throw new Error(f.code);
    const a = arena.page(0);
    space.map({ addr: a, length: 4n * P, prot: RW, flags: MAP.SHARED | MAP.FIXED, file: f.value });
    space.read(a);
    expect(space.advise(a + P, P, MADV.REMOVE)).toEqual({ ok: true, value: 0 });
    expect(space.snapshot(a, a + 4n * P).pages.map((p) => p.present)).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });
});

describe('memfd contents', () => {
  it('are in the file before it is mapped: a read shows them, other pages read zero', () => {
    const f = space.memfd(4n * P, new Map([[1, 0xabcn]]));
    if (!f.ok) throw new Error(f.code);
    const a = arena.page(0);
    space.map({
      addr: a,
      length: 4n * P,
      prot: PROT.READ,
      flags: MAP.SHARED | MAP.FIXED,
      file: f.value,
    });
    expect(space.read(a + P)).toEqual({ ok: true, value: 0xabcn });
    expect(space.read(a + 2n * P)).toEqual({ ok: true, value: 0n });
    expect(mapsAt(a).name).toMatch(/^\/memfd:mremap-lab \(deleted\)$/);
  });
});
