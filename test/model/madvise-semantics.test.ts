import { describe, expect, test } from 'vitest';
import { getProfile, withOverrides } from '../../src/model/profiles.js';
import { MADV, MAP } from '../../src/space/constants.js';
import { anon, code, fill, flagsAt, layout, P, RW, SHARED_ANON, space, value } from './helpers.js';

const A = 0x40000000n; // PMD-aligned
const PMD = 0x200000n;

function present(s: ReturnType<typeof space>, addr: bigint): boolean {
  return s.snapshot(addr, addr + P).pages[0]!.present;
}

describe('MADV_COLD / MADV_PAGEOUT (can_madv_lru_vma, reclaim_pages)', () => {
  test('locked VMAs are EINVAL, mlock onfault too', () => {
    const s = space();
    anon(s, A, 4);
    value(s.lock(A + 2n * P, 2n * P, 0));
    expect(code(s.advise(A, 4n * P, MADV.COLD))).toBe('EINVAL');
    expect(code(s.advise(A + 2n * P, P, MADV.PAGEOUT))).toBe('EINVAL');
    expect(code(s.advise(A, 2n * P, MADV.COLD))).toBe('ok');
    value(s.lock(A, P, 1));
    expect(code(s.advise(A, P, MADV.PAGEOUT))).toBe('EINVAL');
  });

  test('PAGEOUT discards clean lazily freed anon pages; a write after FREE keeps the page', () => {
    const s = space();
    anon(s, A, 3);
    fill(s, A, 3);
    value(s.advise(A, 3n * P, MADV.FREE));
    expect(present(s, A)).toBe(true);
    value(s.touch(A + 2n * P, 9n));
    value(s.advise(A, 3n * P, MADV.PAGEOUT));
    expect([present(s, A), present(s, A + P), present(s, A + 2n * P)]).toEqual([
      false,
      false,
      true,
    ]);
    expect(value(s.read(A))).toBe(0n);
  });

  test('PAGEOUT unmaps shmem pages mapped once; the data stays in the cache', () => {
    const s = space();
    value(s.map({ addr: A, length: 2n * P, prot: RW, flags: SHARED_ANON }));
    value(s.touch(A, 5n));
    value(s.advise(A, 2n * P, MADV.PAGEOUT));
    expect(present(s, A)).toBe(false);
    expect(value(s.read(A))).toBe(5n);
  });
});

describe('MADV_MERGEABLE (ksm_madvise → vma_ksm_compatible)', () => {
  test('on a shared VMA: success, no flag, no split', () => {
    const s = space();
    value(s.map({ addr: A, length: 6n * P, prot: RW, flags: SHARED_ANON }));
    expect(code(s.advise(A + 2n * P, 2n * P, MADV.MERGEABLE))).toBe('ok');
    expect(layout(s)).toEqual(['40000000-40006000']);
    expect(flagsAt(s, A + 2n * P)).not.toContain('mg');
  });

  test('on a private VMA: flag and split', () => {
    const s = space();
    anon(s, A, 6);
    value(s.advise(A + 2n * P, 2n * P, MADV.MERGEABLE));
    expect(layout(s)).toHaveLength(3);
    expect(flagsAt(s, A + 2n * P)).toContain('mg');
  });
});

describe('MADV_REMOVE punches the file for every mapping (shmem_fallocate → unmap_mapping_range)', () => {
  test('a second shared mapping loses the pages; a private CoW copy stays', () => {
    const s = space();
    const fd = value(s.memfd(4n * P));
    const sharedFd = MAP.SHARED | MAP.FIXED;
    value(s.map({ addr: A, length: 4n * P, prot: RW, flags: sharedFd, file: fd }));
    value(s.map({ addr: A + PMD, length: 4n * P, prot: RW, flags: sharedFd, file: fd }));
    const priv = A + 2n * PMD;
    value(
      s.map({ addr: priv, length: 4n * P, prot: RW, flags: MAP.PRIVATE | MAP.FIXED, file: fd }),
    );
    fill(s, A, 4);
    expect(value(s.read(A + PMD + P))).toBe(A + P);
    expect(value(s.read(priv))).toBe(A);
    value(s.touch(priv + P, 7n)); // CoW copy
    value(s.advise(A, 4n * P, MADV.REMOVE));
    expect(present(s, A + PMD + P)).toBe(false);
    expect(present(s, priv)).toBe(false);
    expect(value(s.read(priv + P))).toBe(7n);
    expect(value(s.read(A + PMD + P))).toBe(0n);
  });
});

describe('MADV_FREE of part of a THP: split_folio, zero subpages remapped (6.12 switch)', () => {
  function thp(profile: string | ReturnType<typeof getProfile>) {
    const s = space('linux-6.18', { profile, thp: 'madvise' });
    anon(s, A, 512);
    value(s.advise(A, PMD, MADV.HUGEPAGE));
    value(s.advise(A, PMD, MADV.POPULATE_WRITE));
    value(s.touch(A + 5n * P, 77n));
    value(s.advise(A + 100n * P, 10n * P, MADV.FREE));
    return s;
  }

  test('6.12+: split; zero subpages become the zero page, the written one keeps its data', () => {
    const s = thp('linux-6.18');
    const pg = s.snapshot(A, A + PMD).pages;
    expect(pg[0]!.thp).toBe(false);
    expect(pg[0]!.zero).toBe(true);
    expect(pg[5]!.zero).toBe(false);
    expect(pg[5]!.tag).toBe(77n);
  });

  test('switch off (before 6.12): split, no zero-page remap', () => {
    const off = withOverrides(getProfile('linux-6.18'), { thpSplitZeroRemap: false }, 'no-remap');
    const pg = thp(off).snapshot(A, A + PMD).pages;
    expect(pg[0]!.thp).toBe(false);
    expect(pg[0]!.zero).toBe(false);
  });

  test('a whole-PMD FREE keeps the THP', () => {
    const s = space('linux-6.18', { thp: 'madvise' });
    anon(s, A, 512);
    value(s.advise(A, PMD, MADV.HUGEPAGE));
    value(s.advise(A, PMD, MADV.POPULATE_WRITE));
    value(s.advise(A, PMD, MADV.FREE));
    expect(s.snapshot(A, A + P).pages[0]!.thp).toBe(true);
  });
});

describe('MADV_POPULATE_WRITE on a shared mapping keeps the cached data', () => {
  test('a second mapping of the memfd sees what the first wrote', () => {
    const s = space();
    const fd = value(s.memfd(2n * P));
    const flags = MAP.SHARED | MAP.FIXED;
    value(s.map({ addr: A, length: 2n * P, prot: RW, flags, file: fd }));
    value(s.touch(A, 42n));
    value(s.map({ addr: A + PMD, length: 2n * P, prot: RW, flags, file: fd }));
    value(s.advise(A + PMD, 2n * P, MADV.POPULATE_WRITE));
    expect(value(s.read(A + PMD))).toBe(42n);
    expect(value(s.read(A))).toBe(42n);
  });
});

describe('MADV_COLLAPSE (madvise_collapse)', () => {
  test('a PMD with one written page becomes a THP with the data; empty PMDs and odd ranges are EINVAL', () => {
    const s = space();
    anon(s, A, 512);
    expect(code(s.advise(A, PMD, MADV.COLLAPSE))).toBe('EINVAL');
    value(s.touch(A + 3n * P, 77n));
    expect(code(s.advise(A + 8n * P, 100n * P, MADV.COLLAPSE))).toBe('EINVAL');
    expect(code(s.advise(A, 100n * P, MADV.COLLAPSE))).toBe('ok');
    expect(code(s.advise(A, PMD, MADV.COLLAPSE))).toBe('ok');
    const pg = s.snapshot(A, A + PMD).pages;
    expect([pg[0]!.thp, pg[0]!.present, pg[3]!.tag]).toEqual([true, true, 77n]);
  });
});

describe('MADV_COLLAPSE across versions (Debian 6.1.0-57 / 6.12.117 vs 6.18)', () => {
  for (const [profile, ro, uffd] of [
    ['linux-6.1', 'EINVAL', 'EINVAL'],
    ['linux-6.12', 'EINVAL', 'EBUSY'],
    ['linux-6.18', 'ok', 'EBUSY'],
  ] as const) {
    test(`${profile}: a PMD of only zero pages ${ro === 'ok' ? 'collapses' : 'is SCAN_PAGE_RO'}; uffd-armed empty PTEs give ${uffd}`, () => {
      const s = space(profile);
      anon(s, A, 1024);
      value(s.touch(A + PMD, 1n)); // an anon_vma for the VMA
      value(s.read(A + 8n * P));
      expect(code(s.advise(A, PMD, MADV.COLLAPSE))).toBe(ro);
      const u = space(profile);
      anon(u, A, 512);
      value(u.touch(A, 3n));
      value(u.uffdRegister(A, PMD));
      expect(code(u.advise(A, PMD, MADV.COLLAPSE))).toBe(uffd);
    });
  }
});

describe('reclaim and punch-hole see every process of the world', () => {
  test('PAGEOUT in a fork child keeps a shmem page the parent maps too', () => {
    const s = space();
    value(s.map({ addr: A, length: P, prot: RW, flags: SHARED_ANON }));
    value(s.touch(A, 3n));
    const child = s.child(value(s.fork()))!;
    value(child.touch(A, 4n));
    value(child.advise(A, P, MADV.PAGEOUT));
    expect(child.snapshot(A, A + P).pages[0]!.present).toBe(true);
  });

  test('MADV_COLLAPSE needs an anon_vma; a PMD without a PTE table is EINVAL', () => {
    const s = space();
    anon(s, A, 1024);
    value(s.read(A));
    expect(code(s.advise(A, PMD, MADV.COLLAPSE))).toBe('EINVAL');
    value(s.touch(A + P, 1n));
    expect(code(s.advise(A + PMD, PMD, MADV.COLLAPSE))).toBe('EINVAL');
    expect(code(s.advise(A, PMD, MADV.COLLAPSE))).toBe('ok');
  });
});
