/**
 * Every behaviour trait that changes a prediction, with the trait on and off
 * (src/model/traits.ts; probed by src/kernel/traits.ts). The built-in scenarios trait-*.json
 * check the same rules against the running kernel.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TRAITS,
  describeTraits,
  parseTraitOverrides,
  TraitError,
} from '../../src/model/traits.js';
import { MADV, MAP, MLOCK, MREMAP, PROT } from '../../src/space/constants.js';
import { P, RW, anon, flagsAt, layout, space, value } from './helpers.js';

const PMD = 0x200000n;
const BASE = 0x40000000n; // PUD-aligned, so every slot below is PMD-aligned

function page(s: ReturnType<typeof space>, addr: bigint) {
  return s.snapshot(addr, addr + P).pages[0]!;
}

describe('zeroPage (do_anonymous_page, mm_forbids_zeropage)', () => {
  for (const zeroPage of [true, false]) {
    it(`zeroPage=${zeroPage}: a read fault maps ${zeroPage ? 'the shared zero page' : 'a fresh exclusive page'}`, () => {
      const s = space('linux-6.18', { traits: { zeroPage } });
      anon(s, BASE, 4);
      expect(value(s.read(BASE + P))).toBe(0n);
      const pg = page(s, BASE + P);
      expect(pg.present).toBe(true);
      expect(pg.zero).toBe(zeroPage);
      expect(pg.tag).toBe(0n);
      // The fresh page takes vmf_anon_prepare(): the VMA is now faulted.
      expect(s.vmas()[0]!.anonVma !== null).toBe(!zeroPage);
    });

    it(`zeroPage=${zeroPage}: a VMA that was only read ${zeroPage ? 'merges' : 'does not merge'} after a move below an unfaulted neighbour`, () => {
      const s = space('linux-6.18', { traits: { zeroPage } });
      anon(s, BASE + 10n * P, 2);
      anon(s, BASE + 2n * P, 2);
      value(s.read(BASE + 2n * P));
      const moved = s.remap({
        addr: BASE + 2n * P,
        oldLen: 2n * P,
        newLen: 2n * P,
        flags: MREMAP.MAYMOVE | MREMAP.FIXED,
        newAddr: BASE + 8n * P,
      });
      expect(value(moved)).toBe(BASE + 8n * P);
      // copy_vma: an unfaulted VMA takes pgoff = new_addr >> PAGE_SHIFT and merges; a
      // faulted one keeps its pgoff, which is not contiguous with the neighbour's.
      expect(layout(s, BASE, BASE + PMD)).toEqual(
        zeroPage
          ? [`${(BASE + 8n * P).toString(16)}-${(BASE + 12n * P).toString(16)}`]
          : [
              `${(BASE + 8n * P).toString(16)}-${(BASE + 10n * P).toString(16)}`,
              `${(BASE + 10n * P).toString(16)}-${(BASE + 12n * P).toString(16)}`,
            ],
      );
    });
  }
});

describe('hugeZeroPage (do_huge_pmd_anonymous_page, use_zero_page)', () => {
  for (const hugeZeroPage of [true, false]) {
    it(`hugeZeroPage=${hugeZeroPage}: a read fault in a THP-eligible slot maps ${hugeZeroPage ? 'the huge zero page' : 'a THP'}`, () => {
      const s = space('linux-6.18', { thp: 'madvise', traits: { hugeZeroPage } });
      anon(s, BASE, 512);
      value(s.advise(BASE, PMD, MADV.HUGEPAGE));
      value(s.read(BASE + 5n * P));
      const snap = s.snapshot(BASE, BASE + PMD);
      expect(snap.pages.every((p) => p.present && p.thp)).toBe(true);
      expect(snap.pages.every((p) => p.zero === hugeZeroPage)).toBe(true);
      // do_huge_pmd_anonymous_page calls anon_vma_prepare() before either choice.
      expect(s.vmas()[0]!.anonVma).not.toBeNull();
    });
  }

  it('without the zero page there is no huge zero page either', () => {
    const s = space('linux-6.18', {
      thp: 'always',
      traits: { zeroPage: false, hugeZeroPage: true },
    });
    anon(s, BASE, 512);
    value(s.read(BASE));
    expect(page(s, BASE)).toMatchObject({ present: true, thp: true, zero: false });
  });

  // mm/huge_memory.c:do_huge_zero_wp_pmd (6.13) vs the PMD split before it (Debian 6.12.117).
  for (const [profile, thpAfter] of [
    ['linux-6.12', false],
    ['linux-6.16', true],
  ] as const) {
    it(`${profile}: a write to the huge zero page ${thpAfter ? 'maps a fresh THP' : 'splits the PMD'}`, () => {
      const s = space(profile, { thp: 'always' });
      anon(s, BASE, 512);
      value(s.read(BASE));
      value(s.touch(BASE + 7n * P, 9n));
      const snap = s.snapshot(BASE, BASE + PMD);
      expect(snap.pages[7]).toMatchObject({ tag: 9n, zero: false, thp: thpAfter });
      expect(snap.pages[8]).toMatchObject({ present: true, zero: !thpAfter, thp: thpAfter });
    });
  }
});

describe('ptReclaim (mm/pt_reclaim.c, MADV_DONTNEED)', () => {
  for (const ptReclaim of [true, false]) {
    it(`ptReclaim=${ptReclaim}: after DONTNEED of the whole PMD the next fault ${ptReclaim ? 'maps a THP' : 'stays PTE-mapped'}`, () => {
      const s = space('linux-6.18', { thp: 'madvise', traits: { ptReclaim } });
      anon(s, BASE, 512);
      value(s.advise(BASE, PMD, MADV.NOHUGEPAGE));
      value(s.touch(BASE, 1n));
      value(s.advise(BASE, PMD, MADV.DONTNEED));
      value(s.advise(BASE, PMD, MADV.HUGEPAGE));
      value(s.touch(BASE + P, 2n));
      expect(page(s, BASE + P).thp).toBe(ptReclaim);
    });
  }

  it('a DONTNEED that does not span the whole PMD keeps the PTE table', () => {
    const s = space('linux-6.18', { thp: 'madvise', traits: { ptReclaim: true } });
    anon(s, BASE, 512);
    value(s.advise(BASE, PMD, MADV.NOHUGEPAGE));
    value(s.touch(BASE, 1n));
    value(s.advise(BASE, PMD - P, MADV.DONTNEED));
    value(s.advise(BASE, PMD, MADV.HUGEPAGE));
    value(s.touch(BASE + P, 2n));
    expect(page(s, BASE + P).thp).toBe(false);
  });
});

describe('faultAroundPages (do_fault_around)', () => {
  for (const pages of [16, 1]) {
    it(`faultAroundPages=${pages}: a read fault on a cached file maps ${pages} page(s)`, () => {
      const s = space('linux-6.18', { traits: { faultAroundPages: pages } });
      const fd = value(s.memfd(64n * P));
      // Fill the page cache through a shared mapping.
      value(
        s.map({ addr: BASE, length: 64n * P, prot: RW, flags: MAP.SHARED | MAP.FIXED, file: fd }),
      );
      for (let i = 0n; i < 64n; i++) value(s.touch(BASE + i * P, i + 1n));
      value(
        s.map({
          addr: PMD * 4n,
          length: 64n * P,
          prot: PROT.READ,
          flags: MAP.PRIVATE | MAP.FIXED,
          file: fd,
        }),
      );
      value(s.read(PMD * 4n + 20n * P));
      const present = s.snapshot(PMD * 4n, PMD * 4n + 64n * P).pages.filter((p) => p.present);
      expect(present.length).toBe(pages);
    });
  }
});

describe('vmflagMnemonics (show_smap_vma_flags)', () => {
  it("a kernel that does not print 'lf' (before 6.2) is modelled without it", () => {
    const all = space('linux-6.18');
    const old = space('linux-6.1', {
      traits: { vmflagMnemonics: ['rd', 'wr', 'mr', 'mw', 'me', 'lo', 'ac'] },
    });
    for (const s of [all, old]) {
      anon(s, BASE, 2);
      value(s.lock(BASE, 2n * P, MLOCK.ONFAULT));
    }
    expect(flagsAt(all, BASE)).toEqual(expect.arrayContaining(['lo', 'lf']));
    expect(flagsAt(old, BASE)).toContain('lo');
    expect(flagsAt(old, BASE)).not.toContain('lf');
  });
});

describe('--trait parsing', () => {
  it('parses every trait and refuses bad ones with a message', () => {
    expect(
      parseTraitOverrides([
        'zeroPage=false',
        'hugeZeroPage=0',
        'ptReclaim=yes',
        'faultAroundPages=64k',
        'vmflagMnemonics=rd,wr',
      ]),
    ).toEqual({
      zeroPage: false,
      hugeZeroPage: false,
      ptReclaim: true,
      faultAroundPages: 16,
      vmflagMnemonics: ['rd', 'wr'],
    });
    expect(parseTraitOverrides(['faultAroundPages=4'])).toEqual({ faultAroundPages: 4 });
    expect(parseTraitOverrides(['vmflagMnemonics=all'])).toEqual({ vmflagMnemonics: null });
    for (const bad of [
      'zeroPage',
      'zeroPage=maybe',
      'nope=1',
      'faultAroundPages=3',
      'vmflagMnemonics=RD',
    ])
      expect(() => parseTraitOverrides([bad]), bad).toThrow(TraitError);
    expect(describeTraits(DEFAULT_TRAITS)).toBe(
      'zeroPage=true hugeZeroPage=true ptReclaim=false faultAroundPages=16 vmflagMnemonics=all',
    );
  });
});
