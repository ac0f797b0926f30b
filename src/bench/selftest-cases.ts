/**
 * The timed cases of the kernel's tools/testing/selftests/mm/mremap_test.c (6.12), one to
 * one: main()'s test_cases[3..14] and perf_test_cases[0..2] (the first three test_cases
 * expect mremap to fail and print no time). Every case there is the same work:
 * get_source_mapping() maps MAP_SHARED|MAP_ANONYMOUS memory at an address aligned to the
 * source alignment and not to twice it; remap_region() writes the pattern over `threshold`
 * bytes, puts the destination one destination-alignment unit past the source's end (after
 * the preamble, if any) and times one MREMAP_MAYMOVE|MREMAP_FIXED call. A time is printed
 * only when the whole region was written (run_mremap_test_case(): `-t 0`, or a size within
 * the threshold), so the mirror populates fully; `selftestThreshold` picks the `-t` that
 * prints exactly the chosen cases. The first timed case (8 KiB) is the first move of the
 * selftest's process, after main() wrote its random buffer and ran three failing cases: the
 * mirror repeats those steps before each sample (firstShot); every later case follows a
 * move in the same process, as warm samples do.
 */
import type { MatrixEntry } from './types.js';
import { GIB, KIB, MIB, formatSize, type AlignSpec, type BenchCase } from './types.js';

export interface SelftestCase {
  /** The name the selftest prints (its MAKE_TEST string). */
  name: string;
  /** A perf_test_cases[] entry: run only with -t 0 or a threshold of 1 GiB or more. */
  perf: boolean;
  /** Bytes. */
  size: number;
  src: Exclude<AlignSpec, number>;
  dst: Exclude<AlignSpec, number>;
  /** test_cases[14]: a 40 MiB populated shared mapping just below the destination. */
  preamble: boolean;
  /** The first move of the selftest's process: its history is repeated (firstShot). */
  first: boolean;
}

const t = (
  name: string,
  size: number,
  src: SelftestCase['src'],
  dst: SelftestCase['dst'],
  extra: Partial<SelftestCase> = {},
): SelftestCase => ({ name, perf: false, size, src, dst, preamble: false, first: false, ...extra });

export const SELFTEST_CASES: readonly SelftestCase[] = [
  t('8KB mremap - Source PTE-aligned, Destination PTE-aligned', 8 * KIB, 'pte', 'pte', {
    first: true,
  }),
  t('2MB mremap - Source 1MB-aligned, Destination PTE-aligned', 2 * MIB, '1m', 'pte'),
  t('2MB mremap - Source 1MB-aligned, Destination 1MB-aligned', 2 * MIB, '1m', '1m'),
  t('4MB mremap - Source PMD-aligned, Destination PTE-aligned', 4 * MIB, 'pmd', 'pte'),
  t('4MB mremap - Source PMD-aligned, Destination 1MB-aligned', 4 * MIB, 'pmd', '1m'),
  t('4MB mremap - Source PMD-aligned, Destination PMD-aligned', 4 * MIB, 'pmd', 'pmd'),
  t('2GB mremap - Source PUD-aligned, Destination PTE-aligned', 2 * GIB, 'pud', 'pte'),
  t('2GB mremap - Source PUD-aligned, Destination 1MB-aligned', 2 * GIB, 'pud', '1m'),
  t('2GB mremap - Source PUD-aligned, Destination PMD-aligned', 2 * GIB, 'pud', 'pmd'),
  t('2GB mremap - Source PUD-aligned, Destination PUD-aligned', 2 * GIB, 'pud', 'pud'),
  t('5MB mremap - Source 1MB-aligned, Destination 1MB-aligned', 5 * MIB, '1m', '1m'),
  t('5MB mremap - Source 1MB-aligned, Dest 1MB-aligned with 40MB Preamble', 5 * MIB, '1m', '1m', {
    preamble: true,
  }),
  t('1GB mremap - Source PTE-aligned, Destination PTE-aligned', GIB, 'pte', 'pte', {
    perf: true,
  }),
  t('1GB mremap - Source PMD-aligned, Destination PMD-aligned', GIB, 'pmd', 'pmd', {
    perf: true,
  }),
  t('1GB mremap - Source PUD-aligned, Destination PUD-aligned', GIB, 'pud', 'pud', {
    perf: true,
  }),
];

/** The matrix entry of one selftest case. */
export function selftestEntry(s: SelftestCase): MatrixEntry {
  return {
    name: s.name,
    size: formatSize(s.size),
    src: s.src,
    dst: s.dst,
    kind: 'shared-anon',
    populate: 'full',
    place: 'selftest',
    neighbour: s.preamble ? 'selftest-preamble' : 'none',
    ...(s.first ? { firstShot: true } : {}),
  };
}

/** The selftest's name of a case, if it mirrors one. */
export function selftestNameOf(c: BenchCase): string | undefined {
  if (c.place !== 'selftest' || c.kind !== 'shared-anon' || c.op !== 'move') return undefined;
  if (c.populate !== 1 || c.flags.length || c.forkChild || c.thp) return undefined;
  return SELFTEST_CASES.find(
    (s) =>
      s.size === c.size &&
      s.src === c.src &&
      s.dst === c.dst &&
      s.preamble === (c.neighbour === 'selftest-preamble') &&
      s.first === (c.firstShot === true),
  )?.name;
}

/**
 * The `-t` (MiB) under which mremap_test prints a time for every chosen case and runs no
 * more than it must: 0 (everything, the perf cases too) once a chosen case is over 1 GiB.
 */
export function selftestThreshold(chosen: readonly SelftestCase[]): number {
  const maxMb = Math.max(...chosen.map((s) => Math.ceil(s.size / MIB)));
  return chosen.some((s) => s.perf) || maxMb >= 1024 ? 0 : maxMb;
}
