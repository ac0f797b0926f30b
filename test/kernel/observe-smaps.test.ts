/**
 * smaps / smaps_rollup (fs/proc/task_mmu.c:show_smap, show_smap_vma_flags,
 * show_smaps_rollup) on captured text and on mappings made here. VmFlags expectations are
 * the VmFlags table observed on 6.18 (docs/observation.md).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  parseSmaps,
  parseSmapsRollup,
  readSmaps,
  readSmapsRollup,
} from '../../src/kernel/smaps.js';
import { snapshot } from '../../src/kernel/snapshot.js';
import { sys } from '../../src/kernel/syscalls.js';
import { decodeVmFlags, vmFlagsDiff } from '../../src/kernel/vmflags.js';
import { MAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const me = process.pid;
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Maps len bytes between two PROT_NONE guard pages, so it never merges with a neighbour. */
function map(len: bigint, prot: number, flags: number): bigint {
  const g = sys.mmap(0n, len + 2n * PAGE_SIZE, PROT.NONE, MAP.PRIVATE | MAP.ANONYMOUS);
  if (!g.ok) throw new Error(`mmap: ${g.code}`);
  cleanups.push(() => sys.munmap(g.value, len + 2n * PAGE_SIZE));
  if (prot === PROT.NONE) return g.value;
  const r = sys.mmap(g.value + PAGE_SIZE, len, prot, flags | MAP.FIXED);
  if (!r.ok) throw new Error(`mmap: ${r.code}`);
  return r.value;
}

describe('smaps parser on captured text', () => {
  const text = readFileSync(path.join(fixtures, 'smaps-python-odd-names.txt'), 'utf8');
  const entries = parseSmaps(text);

  it('one entry per VMA with the maps header decoded', () => {
    const maps = readFileSync(path.join(fixtures, 'maps-python-odd-names.txt'), 'utf8');
    expect(entries).toHaveLength(maps.split('\n').filter((l) => l !== '').length);
    const f = entries.find((e) => e.path === '/tmp/mrl obs fixtures/file with spaces.bin')!;
    expect(f.sizes).toMatchObject({
      size: 8192n,
      rss: 8192n,
      sharedDirty: 0n,
      privateDirty: 8192n,
    });
    expect(f.vmFlags.codes).toEqual(['rd', 'wr', 'sh', 'mr', 'mw', 'me', 'ms']);
    expect(f.thpEligible).toBe(0);
    expect(f.protectionKey).toBeNull();
  });

  it('shared anonymous memory: 3 pages, one dirty, Shared/Private accounted', () => {
    const z = entries.find((e) => e.name === '/dev/zero (deleted)')!;
    expect(z.sizes.size).toBe(3n * PAGE_SIZE);
    expect(z.sizes.rss).toBe(PAGE_SIZE);
    expect(z.vmFlags.has('sh') && z.vmFlags.has('ms')).toBe(true);
    expect(z.raw['KernelPageSize']).toBe('4 kB');
  });

  it('rollup sums with the extra Pss_* keys kept', () => {
    const r = parseSmapsRollup(
      readFileSync(path.join(fixtures, 'smaps_rollup-python.txt'), 'utf8'),
    );
    expect(r.sizes.rss).toBe(13772n * 1024n);
    expect(r.sizes.pss).toBe(12540n * 1024n);
    expect(r.raw['Pss_Anon']).toBe('7092 kB');
    expect(r.start).toBe(0x55abe7588000n);
  });
});

describe('VmFlags', () => {
  it('decodes known mnemonics and keeps unknown ones verbatim', () => {
    const f = decodeVmFlags('rd wr mr mw me ac lf zz ');
    expect(f.codes).toEqual(['rd', 'wr', 'mr', 'mw', 'me', 'ac', 'lf', 'zz']);
    expect(f.names).toEqual([
      'VM_READ',
      'VM_WRITE',
      'VM_MAYREAD',
      'VM_MAYWRITE',
      'VM_MAYEXEC',
      'VM_ACCOUNT',
      'VM_LOCKONFAULT',
    ]);
    expect(f.unknown).toEqual(['zz']);
    expect(vmFlagsDiff(['rd', 'wr', 'ac', 'sd'], ['rd', 'wr', 'nr'])).toEqual({
      onlyA: ['ac'],
      onlyB: ['nr'],
    });
  });

  it('RW anon: rd wr mr mw me ac; R anon: rd mr mw me; NORESERVE: nr instead of ac', () => {
    const rw = map(PAGE_SIZE, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS);
    const r = map(PAGE_SIZE, PROT.READ, MAP.PRIVATE | MAP.ANONYMOUS);
    const nr = map(PAGE_SIZE, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS | MAP.NORESERVE);
    const s = readSmaps(me);
    if (!s.ok) throw new Error(s.code);
    const at = (a: bigint) => s.value.find((e) => e.start <= a && a < e.end)!.vmFlags.codes;
    expect(at(rw)).toEqual(['rd', 'wr', 'mr', 'mw', 'me', 'ac']);
    expect(at(r)).toEqual(['rd', 'mr', 'mw', 'me']);
    expect(at(nr)).toEqual(['rd', 'wr', 'mr', 'mw', 'me', 'nr']);
  });

  it('mlock adds lo and Locked; snapshot returns the VmFlags of the window VMAs', () => {
    // PROT_NONE guard pages on both sides so nothing merges with the two pages under test.
    const g = map(4n * PAGE_SIZE, PROT.NONE, MAP.PRIVATE | MAP.ANONYMOUS);
    const a = g + PAGE_SIZE;
    const f = sys.mmap(
      a,
      2n * PAGE_SIZE,
      PROT.READ | PROT.WRITE,
      MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED,
    );
    expect(f.ok).toBe(true);
    const l = sys.mlock2(a, PAGE_SIZE, 0);
    if (!l.ok) throw new Error(`mlock2: ${l.code}`);
    const snap = snapshot(me, a, a + 2n * PAGE_SIZE, { vmFlags: true, pages: false });
    expect(snap.vmas.map((v) => [v.end - v.start, v.vmFlags])).toEqual([
      [PAGE_SIZE, ['rd', 'wr', 'mr', 'mw', 'me', 'lo', 'ac']],
      [PAGE_SIZE, ['rd', 'wr', 'mr', 'mw', 'me', 'ac']],
    ]);
    const s = readSmaps(me);
    if (!s.ok) throw new Error(s.code);
    expect(s.value.find((e) => e.start === a)!.sizes.locked).toBe(PAGE_SIZE);
    const roll = readSmapsRollup(me);
    expect(roll.ok && roll.value.sizes.locked >= PAGE_SIZE).toBe(true);
  });
});
