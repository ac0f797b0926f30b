// The selftest preset mirrors tools/testing/selftests/mm/mremap_test.c case for case: its
// names, sizes, alignments, shared anonymous memory, and remap_region()'s placement.
import { describe, expect, it } from 'vitest';
import { arenaSizeFor, layoutCase, SELFTEST_PREAMBLE } from '../../src/bench/layout.js';
import { expandEntry, presetMatrix } from '../../src/bench/matrix.js';
import {
  SELFTEST_CASES,
  selftestNameOf,
  selftestThreshold,
} from '../../src/bench/selftest-cases.js';
import { caseId, GIB, KIB, MIB, type BenchCase } from '../../src/bench/types.js';

const lo = 16 * 1024 * GIB;
const layout = (c: BenchCase) =>
  layoutCase(c, { start: BigInt(lo), end: BigInt(lo + arenaSizeFor(c)) });
const byName = (prefix: string): BenchCase => {
  const c = presetMatrix('selftest').cases.find((x) => selftestNameOf(x)?.startsWith(prefix));
  if (!c) throw new Error(`no case ${prefix}`);
  return c;
};

describe('selftest preset', () => {
  it('has the 15 timed cases of mremap_test.c, each named as the selftest names it', () => {
    const m = presetMatrix('selftest');
    expect(m.cases.map(selftestNameOf)).toEqual(SELFTEST_CASES.map((s) => s.name));
    expect(m.cases.map((c) => [c.kind, c.populate, c.place])).toEqual(
      m.cases.map(() => ['shared-anon', 1, 'selftest']),
    );
    expect(SELFTEST_CASES.filter((s) => s.perf).map((s) => s.size)).toEqual([GIB, GIB, GIB]);
  });

  it('places the destination one alignment unit past the source, as remap_region() does', () => {
    const small = layout(byName('8KB'));
    expect([small.src - lo, small.dst - small.src]).toEqual([GIB + 4 * KIB, 16 * KIB]);
    const pte = layout(byName('2MB mremap - Source 1MB-aligned, Destination PTE'));
    expect([pte.src - lo, pte.dst - pte.src]).toEqual([GIB + MIB, 2 * MIB + 4 * KIB]);
    const pud = layout(byName('2GB mremap - Source PUD-aligned, Destination PUD'));
    expect([pud.src - lo, pud.dst - lo]).toEqual([3 * GIB, 7 * GIB]);
  });

  it('puts the 40 MiB preamble just below the destination of its case only', () => {
    const pre = layout(byName('5MB mremap - Source 1MB-aligned, Dest 1MB-aligned with'));
    expect([pre.src - lo, pre.dst - lo, pre.nbAddr - lo, pre.nbLen]).toEqual([
      GIB + MIB,
      GIB + 47 * MIB,
      GIB + 7 * MIB,
      SELFTEST_PREAMBLE,
    ]);
    const plain = layout(byName('5MB mremap - Source 1MB-aligned, Destination'));
    expect([plain.dst - plain.src, plain.nbLen]).toEqual([6 * MIB, 0]);
  });

  it('fits every case in its arena', () => {
    for (const c of presetMatrix('selftest').cases) {
      const l = layout(c);
      expect(l.dst + c.size).toBeLessThanOrEqual(l.regionHi);
      expect(l.regionHi).toBeLessThanOrEqual(lo + arenaSizeFor(c));
    }
  });

  it('picks the -t that prints exactly the chosen cases', () => {
    expect(selftestThreshold(SELFTEST_CASES.slice(0, 6))).toBe(4);
    expect(selftestThreshold(SELFTEST_CASES.filter((s) => s.size === 5 * MIB))).toBe(5);
    expect(selftestThreshold(SELFTEST_CASES)).toBe(0);
  });

  it('times the first move of the selftest process, and only that one, as a first shot', () => {
    const m = presetMatrix('selftest');
    expect(m.cases.filter((c) => c.firstShot).map(selftestNameOf)).toEqual([
      '8KB mremap - Source PTE-aligned, Destination PTE-aligned',
    ]);
    expect(caseId(byName('8KB'))).toBe(
      'move 8K pte->pte shared-anon pop=1 place=selftest first-shot',
    );
    // A warm 8 KiB move is not the selftest's case, nor is a first shot of a later case.
    expect(selftestNameOf({ ...byName('8KB'), firstShot: false })).toBeUndefined();
    expect(selftestNameOf({ ...byName('2MB'), firstShot: true })).toBeUndefined();
    // Results files from before the field: absent means a warm case, the same id.
    const { firstShot: _, ...old } = byName('2MB');
    expect(caseId(old)).toBe(caseId(byName('2MB')));
  });

  it('refuses the selftest placement for what it cannot mirror', () => {
    expect(() => expandEntry({ size: '2M', src: 'pmd+4K', place: 'selftest' })).toThrow(
      'place: place "selftest" is for moves between named alignments',
    );
    expect(() => expandEntry({ size: '2M', neighbour: 'selftest-preamble' })).toThrow(
      'neighbour: the selftest preamble goes with place "selftest"',
    );
    expect(() => expandEntry({ size: '8K', firstShot: true })).toThrow(
      'firstShot: the selftest\'s first shot goes with place "selftest"',
    );
    expect(() => expandEntry({ size: '8K', place: 'selftest', firstShot: 'yes' })).toThrow(
      'firstShot: expected true or false (got "yes")',
    );
  });
});
