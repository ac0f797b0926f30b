import { describe, expect, test } from 'vitest';
import { MADV, PROT } from '../../src/space/constants.js';
import { anon, code, layout, space, value } from './helpers.js';

const PMD = 0x200000n;
const A = 0x40000000n; // PMD-aligned

/** A PMD-mapped THP at A (MADV_HUGEPAGE + MADV_POPULATE_WRITE under thp=madvise). */
function thpAt(pages = 512) {
  const s = space('linux-6.18', { thp: 'madvise' });
  anon(s, A, pages);
  value(s.advise(A, BigInt(pages) * 0x1000n, MADV.HUGEPAGE));
  value(s.advise(A, BigInt(pages) * 0x1000n, MADV.POPULATE_WRITE));
  return s;
}

function huge(s: ReturnType<typeof space>, addr: bigint): boolean {
  return s.snapshot(addr, addr + 0x1000n).pages[0]!.thp;
}

describe('__split_vma → vma_adjust_trans_huge: a VMA boundary never cuts a huge PMD', () => {
  test('mprotect of half a THP splits the PMD; data stays', () => {
    const s = thpAt();
    value(s.touch(A + 300n * 0x1000n, 77n));
    expect(huge(s, A)).toBe(true);
    value(s.protect(A + PMD / 2n, PMD / 2n, PROT.READ));
    expect(layout(s)).toEqual(['40000000-40100000', '40100000-40200000']);
    expect(huge(s, A)).toBe(false);
    expect(huge(s, A + PMD - 0x1000n)).toBe(false);
    expect(value(s.read(A + 300n * 0x1000n))).toBe(77n);
  });

  test('a split on a PMD boundary keeps both THPs', () => {
    const s = thpAt(1024);
    value(s.protect(A, PMD, PROT.READ));
    expect(huge(s, A)).toBe(true);
    expect(huge(s, A + PMD)).toBe(true);
  });

  test('mlock and madvise(NOHUGEPAGE) of a few pages split it too', () => {
    const s = thpAt();
    value(s.lock(A + 0x1000n, 0xa000n, 0));
    expect(huge(s, A)).toBe(false);
    const t = thpAt();
    value(t.advise(A + 0x64000n, 0xa000n, MADV.NOHUGEPAGE));
    expect(huge(t, A)).toBe(false);
  });

  test('a merge that moves a boundary into the THP (commit_merge) splits it', () => {
    const s = space('linux-6.18', { thp: 'madvise' });
    anon(s, A - 0xc000n, 12, PROT.READ);
    anon(s, A, 512);
    value(s.advise(A - 0xc000n, PMD + 0xc000n, MADV.HUGEPAGE));
    value(s.advise(A, PMD, MADV.POPULATE_WRITE));
    expect(huge(s, A)).toBe(true);
    expect(code(s.protect(A, 0x8000n, PROT.READ))).toBe('ok');
    expect(huge(s, A + 0x100000n)).toBe(false);
  });
});
