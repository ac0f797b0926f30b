/**
 * pagemap (fs/proc/task_mmu.c:pagemap_read / pte_to_pagemap_entry), PAGEMAP_SCAN
 * (do_pagemap_scan), kpageflags (fs/proc/page.c:stable_page_flags) and snapshot() after
 * touching known pages, moving them with mremap, and in a forked child. Runs as root, so
 * PFNs are visible.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectFrames, kpageflagNames } from '../../src/kernel/kpageflags.js';
import {
  PG,
  decodeEntry,
  pageRuns,
  readPagemap,
  readPagemapRaw,
  stateNames,
} from '../../src/kernel/pagemap.js';
import { PAGE_IS, categoriesPerPage, scanPagemap } from '../../src/kernel/pagemap-scan.js';
import { snapshot, trySnapshot } from '../../src/kernel/snapshot.js';
import { readSmaps } from '../../src/kernel/smaps.js';
import { sys } from '../../src/kernel/syscalls.js';
import { MADV, MAP, MREMAP, PAGE_SIZE, PMD_SIZE, PROT } from '../../src/space/constants.js';

const RW = PROT.READ | PROT.WRITE;
const PRIV = MAP.PRIVATE | MAP.ANONYMOUS;
const me = process.pid;

const cleanups: (() => void)[] = [];
/** Addresses whose mapping moved away: never unmap them (someone else may map there). */
const vacated = new Set<bigint>();
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
  vacated.clear();
});

/**
 * Maps len bytes between two PROT_NONE guard pages, so the mapping never merges with a
 * neighbour (e.g. a VM_HUGEPAGE heap of V8, which would turn read faults into the huge zero
 * page).
 */
function map(len: bigint, prot = RW, flags = PRIV): bigint {
  const g = sys.mmap(0n, len + 2n * PAGE_SIZE, PROT.NONE, PRIV);
  if (!g.ok) throw new Error(`mmap: ${g.code}`);
  const addr = g.value + PAGE_SIZE;
  const r = sys.mmap(addr, len, prot, flags | MAP.FIXED);
  if (!r.ok) throw new Error(`mmap: ${r.code}`);
  cleanups.push(() => {
    sys.munmap(g.value, PAGE_SIZE);
    sys.munmap(addr + len, PAGE_SIZE);
    if (!vacated.has(addr)) sys.munmap(addr, len);
  });
  return addr;
}

function touch(addr: bigint, tag: bigint): void {
  const r = sys.writeTag(0, addr, tag);
  if (!r.ok) throw new Error(`writeTag: ${r.code}`);
}

const page = (base: bigint, i: number) => base + BigInt(i) * PAGE_SIZE;
const presentSet = (pages: { present: boolean }[]) =>
  pages.flatMap((p, i) => (p.present ? [i] : []));

describe('pagemap', () => {
  it('is present exactly where pages were written, with PFNs, exclusive, anonymous', () => {
    const a = map(16n * PAGE_SIZE);
    for (const i of [1, 3, 4, 9]) touch(page(a, i), BigInt(0x1000 + i));
    const r = readPagemap(me, a, page(a, 16));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const pm = r.value;
    const present = [...pm.state].flatMap((s, i) => (s & PG.PRESENT ? [i] : []));
    expect(present).toEqual([1, 3, 4, 9]);
    for (const i of present) {
      expect(stateNames(pm.state[i]!)).toEqual(['present', 'exclusive']);
      expect(pm.pfn[i]).toBeGreaterThan(0);
    }
    expect(pm.pfn[0]).toBe(-1);
    // The native decode agrees with the TS decode of the raw entries.
    const raw = readPagemapRaw(me, a, page(a, 16));
    expect(raw.ok).toBe(true);
    if (!raw.ok) return;
    raw.value.forEach((v, i) => {
      const d = decodeEntry(v);
      expect([d.state, d.pfn === null ? -1 : Number(d.pfn)]).toEqual([pm.state[i], pm.pfn[i]]);
    });
    // Runs: [0,1) absent, [1,2) present, [2,3) absent, [3,5) present (split if PFNs jump)…
    const runs = pageRuns(pm, false).map((x) => [x.pages, x.state]);
    expect(runs).toEqual([
      [1, 0],
      [1, PG.PRESENT | PG.EXCLUSIVE],
      [1, 0],
      [2, PG.PRESENT | PG.EXCLUSIVE],
      [4, 0],
      [1, PG.PRESENT | PG.EXCLUSIVE],
      [6, 0],
    ]);
  });

  it('a read fault maps the zero page: present, not exclusive, kpageflags ZERO_PAGE', () => {
    const a = map(4n * PAGE_SIZE);
    const rd = sys.readTag(0, page(a, 2));
    expect(rd.ok && rd.value).toBe(0n);
    const s = snapshot(me, a, page(a, 4));
    expect(presentSet(s.pages)).toEqual([2]);
    expect(s.pages[2]).toMatchObject({ present: true, zero: true, thp: false, tag: 0n });
    expect(s.pageInfo).toBe('kpageflags');
    const pm = readPagemap(me, a, page(a, 4));
    if (!pm.ok) throw new Error('pagemap');
    expect(pm.value.state[2]).toBe(PG.PRESENT);
    const f = inspectFrames([pm.value.pfn[2]!]);
    expect(f.ok && f.value[0]!.zero).toBe(true);
    expect(f.ok && f.value[0]!.names).toContain('ZERO_PAGE');
  });

  it('after a move: present at the destination, absent at the source, same PFNs and tags', () => {
    const len = 8n * PAGE_SIZE;
    const a = map(len);
    const dst = map(len, PROT.NONE);
    for (const i of [0, 2, 5]) touch(page(a, i), 0xabc0n + BigInt(i));
    const before = snapshot(me, a, a + len);
    const moved = sys.mremap(a, len, len, MREMAP.MAYMOVE | MREMAP.FIXED, dst);
    vacated.add(a);
    expect(moved.ok && moved.value).toBe(dst);
    const after = snapshot(me, dst, dst + len);
    const src = snapshot(me, a, a + len);
    expect(src.vmas).toEqual([]);
    expect(presentSet(src.pages)).toEqual([]);
    expect(presentSet(after.pages)).toEqual([0, 2, 5]);
    expect(after.pages.map((p) => p.frame)).toEqual(before.pages.map((p) => p.frame));
    expect(after.pages.map((p) => p.tag)).toEqual([
      0xabc0n,
      null,
      0xabc2n,
      null,
      null,
      0xabc5n,
      null,
      null,
    ]);
    expect(after.vmas).toEqual([
      { start: dst, end: dst + len, prot: 'rw-', shared: false, kind: 'anon', offset: 0n },
    ]);
  });

  it('observing does not fault pages in (tags only for present pages)', () => {
    const a = map(8n * PAGE_SIZE);
    touch(page(a, 7), 7n);
    for (let k = 0; k < 3; k++) snapshot(me, a, page(a, 8), { vmFlags: true });
    const s = snapshot(me, a, page(a, 8));
    expect(presentSet(s.pages)).toEqual([7]);
    expect(s.pages.map((p) => p.tag)).toEqual([null, null, null, null, null, null, null, 7n]);
  });

  it('shared anonymous memory is shmem with the FILE bit', () => {
    const a = map(2n * PAGE_SIZE, RW, MAP.SHARED | MAP.ANONYMOUS);
    touch(a, 5n);
    const s = snapshot(me, a, page(a, 2));
    expect(s.vmas).toMatchObject([{ kind: 'shmem', shared: true, prot: 'rw-', offset: 0n }]);
    const pm = readPagemap(me, a, page(a, 2));
    if (!pm.ok) throw new Error('pagemap');
    expect([...pm.value.state]).toEqual([PG.PRESENT | PG.FILE | PG.EXCLUSIVE, 0]);
  });

  it('a memfd is a file, shared or private, though it lives on the shmem device', () => {
    const fd = sys.memfdCreate('kind');
    if (!fd.ok) throw new Error(`memfd: ${fd.code}`);
    sys.ftruncate(fd.value, 2n * PAGE_SIZE);
    const g = map(4n * PAGE_SIZE, PROT.NONE);
    const shared = sys.mmap(g, PAGE_SIZE, RW, MAP.SHARED | MAP.FIXED, fd.value, 0n);
    const priv = sys.mmap(
      g + 2n * PAGE_SIZE,
      PAGE_SIZE,
      RW,
      MAP.PRIVATE | MAP.FIXED,
      fd.value,
      PAGE_SIZE,
    );
    sys.close(fd.value);
    if (!shared.ok || !priv.ok) throw new Error('mmap memfd');
    const s = snapshot(me, g, page(g, 4), { pages: false });
    expect(s.vmas.map((v) => [v.start - g, v.kind, v.shared, v.offset])).toEqual([
      [0n, 'file', true, 0n],
      [PAGE_SIZE, 'anon', false, 0n],
      [2n * PAGE_SIZE, 'file', false, PAGE_SIZE],
      [3n * PAGE_SIZE, 'anon', false, 0n],
    ]);
  });

  it('a forked child: same frames as the parent, not exclusive; tags read from the child', () => {
    const a = map(4n * PAGE_SIZE);
    touch(page(a, 1), 0x77n);
    const child = sys.forkIdle();
    if (!child.ok) throw new Error(`fork: ${child.code}`);
    cleanups.push(() => sys.killChild(child.value));
    const p = snapshot(me, a, page(a, 4));
    const c = snapshot(child.value, a, page(a, 4));
    expect(c.vmas).toEqual(p.vmas);
    expect(presentSet(c.pages)).toEqual([1]);
    expect(c.pages[1]!.frame).toBe(p.pages[1]!.frame);
    expect(c.pages[1]!.tag).toBe(0x77n);
    const pm = readPagemap(child.value, a, page(a, 4));
    if (!pm.ok) throw new Error('pagemap');
    expect(pm.value.state[1]).toBe(PG.PRESENT);
    const cnt = inspectFrames([Number(p.pages[1]!.frame)]);
    expect(cnt.ok && cnt.value[0]!.mapcount).toBe(2n);
  });

  it('a pid that does not exist is an error result (trySnapshot) or SnapshotError', () => {
    const r = trySnapshot(4194305, 0n, 4096n);
    expect(r.ok ? 'ok' : r.code).toBe('ENOENT');
    expect(() => snapshot(4194305, 0n, 4096n)).toThrow(/cannot observe pid 4194305: ENOENT/);
    expect(() => snapshot(me, 1n, 4096n)).toThrow(RangeError);
  });
});

describe('PAGEMAP_SCAN', () => {
  it('PRESENT agrees with pagemap; the none-slot quirk is WRITTEN without PRESENT', () => {
    const a = map(8n * PAGE_SIZE);
    touch(page(a, 0), 1n);
    touch(page(a, 1), 2n);
    expect(sys.readTag(0, page(a, 3)).ok).toBe(true);
    const sc = scanPagemap(me, a, page(a, 8));
    expect(sc.ok).toBe(true);
    if (!sc.ok) return;
    // the table observed on 6.18 (docs/observation.md, PAGEMAP_SCAN).
    expect(
      sc.value.map((r) => [
        Number((r.start - a) / PAGE_SIZE),
        Number((r.end - a) / PAGE_SIZE),
        r.categories,
      ]),
    ).toEqual([
      [0, 2, PAGE_IS.PRESENT | PAGE_IS.WRITTEN],
      [2, 3, PAGE_IS.WRITTEN],
      [3, 4, PAGE_IS.PRESENT | PAGE_IS.WRITTEN | PAGE_IS.PFNZERO],
      [4, 8, PAGE_IS.WRITTEN],
    ]);
    const cats = categoriesPerPage(sc.value, a, page(a, 8));
    const pm = readPagemap(me, a, page(a, 8));
    if (!pm.ok) throw new Error('pagemap');
    for (let i = 0; i < 8; i++) {
      expect((cats[i]! & PAGE_IS.PRESENT) !== 0).toBe((pm.value.state[i]! & PG.PRESENT) !== 0);
    }
  });

  it('agrees with pagemap on a sparse 64 MiB range, region by region', () => {
    const len = 64n * 1024n * 1024n;
    const a = map(len, RW, PRIV | MAP.NORESERVE);
    const touched = [0, 1, 2, 500, 4096, 4097, 16383];
    for (const i of touched) touch(page(a, i), BigInt(i));
    const sc = scanPagemap(me, a, a + len, { mask: PAGE_IS.PRESENT, returnMask: PAGE_IS.PRESENT });
    if (!sc.ok) throw new Error(sc.code);
    const pages = sc.value.flatMap((r) => {
      const out: number[] = [];
      for (let x = r.start; x < r.end; x += PAGE_SIZE) out.push(Number((x - a) / PAGE_SIZE));
      return out;
    });
    expect(pages).toEqual(touched);
    const pm = readPagemap(me, a, a + len);
    if (!pm.ok) throw new Error('pagemap');
    expect([...pm.value.state].flatMap((s, i) => (s & PG.PRESENT ? [i] : []))).toEqual(touched);
  });
});

describe('THP', () => {
  const mode = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
  const never = mode.includes('[never]');
  if (never) console.log(`skipping THP tests: transparent_hugepage/enabled is ${mode.trim()}`);

  it.skipIf(never)('a 2 MiB aligned MADV_HUGEPAGE region populated for write is one THP', () => {
    const raw = map(2n * PMD_SIZE);
    const a = (raw + PMD_SIZE - 1n) & ~(PMD_SIZE - 1n);
    expect(sys.madvise(a, PMD_SIZE, MADV.HUGEPAGE).ok).toBe(true);
    const pop = sys.madvise(a, PMD_SIZE, MADV.POPULATE_WRITE);
    expect(pop.ok).toBe(true);
    const s = snapshot(me, a, a + PMD_SIZE, { vmFlags: true, tags: false });
    expect(s.pages).toHaveLength(512);
    expect(s.pages.every((p) => p.present && p.thp && !p.zero)).toBe(true);
    const frames = s.pages.map((p) => p.frame!);
    expect(frames.every((f, i) => f === frames[0]! + BigInt(i))).toBe(true);
    expect(frames[0]! % 512n).toBe(0n);
    expect(s.vmas.find((v) => v.start <= a && v.end >= a + PMD_SIZE)!.vmFlags).toContain('hg');
    const f = inspectFrames([Number(frames[0]), Number(frames[1])]);
    if (!f.ok) throw new Error(f.code);
    expect(f.value[0]).toMatchObject({ thp: true, compoundHead: true, anon: true });
    expect(f.value[1]).toMatchObject({ thp: true, compoundTail: true });
    expect(kpageflagNames(f.value[0]!.flags)).toEqual(
      expect.arrayContaining(['ANON', 'THP', 'COMPOUND_HEAD', 'MMAP', 'SWAPBACKED']),
    );
    const sc = scanPagemap(me, a, a + PMD_SIZE);
    expect(sc.ok && sc.value).toEqual([
      {
        start: a,
        end: a + PMD_SIZE,
        categories: PAGE_IS.PRESENT | PAGE_IS.WRITTEN | PAGE_IS.HUGE,
      },
    ]);
    const sm = readSmaps(me);
    if (!sm.ok) throw new Error(sm.code);
    const v = sm.value.find((e) => e.start <= a && e.end >= a + PMD_SIZE)!;
    expect(v.sizes.anonHugePages).toBe(PMD_SIZE);
  });
});

describe('pagemap bits without live setup', () => {
  it('a present entry with PFN field 0 is "pfn hidden", never frame 0', () => {
    // What a reader without CAP_SYS_ADMIN sees for a written page (pte_to_pagemap_entry
    // clears the PFN when !pm->show_pfn).
    expect(decodeEntry(0x8100000000000000n)).toEqual({
      state: PG.PRESENT | PG.EXCLUSIVE | PG.PFN_HIDDEN,
      pfn: null,
    });
    expect(decodeEntry(0x81000000001168fbn)).toEqual({
      state: PG.PRESENT | PG.EXCLUSIVE,
      pfn: 0x1168fbn,
    });
    expect(decodeEntry(0xa100000000001234n).state).toBe(PG.PRESENT | PG.FILE | PG.EXCLUSIVE);
    expect(stateNames(0xff)).toEqual([
      'present',
      'swapped',
      'file',
      'exclusive',
      'soft-dirty',
      'uffd-wp',
      'guard',
      'pfn-hidden',
    ]);
  });
});

describe('guard regions (MADV_GUARD_INSTALL, 6.15)', () => {
  it('pagemap bit 58 and PAGE_IS_GUARD mark exactly the guarded page', () => {
    const a = map(4n * PAGE_SIZE);
    const g = sys.madvise(page(a, 1), PAGE_SIZE, MADV.GUARD_INSTALL);
    expect(g.ok).toBe(true);
    const pm = readPagemap(me, a, page(a, 4));
    if (!pm.ok) throw new Error('pagemap');
    // A guard marker is a non-present swap-type PTE: SWAPPED | GUARD.
    expect([...pm.value.state]).toEqual([0, PG.SWAPPED | PG.GUARD, 0, 0]);
    const sc = scanPagemap(me, a, page(a, 4), { mask: PAGE_IS.GUARD });
    expect(sc.ok && sc.value.map((r) => [r.start, r.end])).toEqual([[page(a, 1), page(a, 2)]]);
    const s = snapshot(me, a, page(a, 4));
    expect(presentSet(s.pages)).toEqual([]);
  });
});
