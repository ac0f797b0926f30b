/**
 * What one benchmark case is: the parameters a user writes in a matrix (docs/benchmarks.md,
 * docs/bench-matrix.schema.json), normalized so that equal cases have equal ids. Results,
 * compare and resume all match cases by that id.
 */

/**
 * Address alignment. Named levels mean *exactly* that alignment, as in
 * tools/testing/selftests/mm/mremap_test.c get_source_mapping(): aligned to A and not to 2A
 * (a 1 GiB address is 2 MiB aligned, but it is not a "PMD-aligned" case). A number is an
 * offset in bytes inside a PMD: source and destination with the same offset are mutually
 * aligned but not PMD aligned (mm/mremap.c:try_realign_addr, 6.7+).
 */
export type AlignSpec = 'pte' | '64k' | '1m' | 'pmd' | 'pud' | number;
export type MemoryKind = 'private-anon' | 'shared-anon' | 'memfd';
export type Neighbour = 'none' | 'merge-partner' | 'preamble' | 'selftest-preamble';
/**
 * Where source and destination go: `slots` puts them in different 1 GiB slots (fresh page
 * tables at the destination); `selftest` places them as mremap_test.c remap_region() does,
 * the destination one alignment unit past the source's end (src/bench/layout.ts).
 */
export type Placement = 'slots' | 'selftest';
export type BenchOp = 'move' | 'grow' | 'shrink';
export type BenchFlag = 'DONTUNMAP' | 'RELOCATE_ANON' | 'MUST_RELOCATE_ANON';

export interface BenchCase {
  op: BenchOp;
  /** Old length in bytes. */
  size: number;
  /** New length for grow/shrink (moves keep the size). */
  newSize: number;
  src: AlignSpec;
  /** Destination alignment (moves only). */
  dst: AlignSpec;
  kind: MemoryKind;
  /** Fraction of pages written before the call, 0..1, spread evenly. */
  populate: number;
  /** MADV_HUGEPAGE on the source before populating (THP=madvise). */
  thp: boolean;
  flags: BenchFlag[];
  /**
   * What sits just below the destination: a compatible VMA, a PROT_READ page, the selftest's
   * 40 MiB populated shared preamble, nothing.
   */
  neighbour: Neighbour;
  place: Placement;
  /** A forked child holds the source's anon_vma (and CoW pages) during the call. */
  forkChild: boolean;
  /** Check the pattern after the call (outside the clock). */
  verify: boolean;
  /**
   * Time each sample as mremap_test.c times its first timed case, the first move of its
   * process: before each sample's setup the sampler does what main() does before that
   * case — writes a fresh 40 MiB buffer (its random bytes) and makes the three calls of
   * test_cases[0..2], which fail — so the move runs with the caches as cold (native/timing.cc
   * FirstShotHistory). Only with place "selftest". Absent in older results files: false.
   */
  firstShot?: boolean;
}

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;
export const PAGE = 4096;
export const PMD_SIZE = 2 * MIB;
export const PUD_SIZE = GIB;

export const ALIGN_BYTES: Record<Exclude<AlignSpec, number>, number> = {
  pte: PAGE,
  '64k': 64 * KIB,
  '1m': MIB,
  pmd: PMD_SIZE,
  pud: PUD_SIZE,
};

export const FLAG_BITS: Record<BenchFlag, number> = {
  DONTUNMAP: 4,
  RELOCATE_ANON: 8,
  MUST_RELOCATE_ANON: 16,
};

/** 4096 → "4K", 2097152 → "2M", 1073741824 → "1G", else bytes. */
export function formatSize(n: number): string {
  if (n % GIB === 0) return `${n / GIB}G`;
  if (n % MIB === 0) return `${n / MIB}M`;
  if (n % KIB === 0) return `${n / KIB}K`;
  return String(n);
}

export function formatAlign(a: AlignSpec): string {
  return typeof a === 'number' ? `pmd+${formatSize(a)}` : a;
}

/** The canonical id: every parameter, in a fixed order. */
export function caseId(c: BenchCase): string {
  const parts = [
    c.op,
    formatSize(c.size),
    ...(c.op === 'move' ? [`${formatAlign(c.src)}->${formatAlign(c.dst)}`] : []),
    ...(c.op !== 'move' ? [`${formatAlign(c.src)} to ${formatSize(c.newSize)}`] : []),
    c.kind,
    `pop=${c.populate}`,
  ];
  if (c.thp) parts.push('thp');
  if (c.flags.length) parts.push([...c.flags].sort().join('|'));
  if (c.neighbour !== 'none') parts.push(`nb=${c.neighbour}`);
  if (c.place === 'selftest') parts.push('place=selftest');
  if (c.forkChild) parts.push('fork-child');
  if (!c.verify) parts.push('no-verify');
  if (c.firstShot) parts.push('first-shot');
  return parts.join(' ');
}

/** The MAYMOVE/FIXED and optional flags the case passes to mremap. */
export function caseFlags(c: BenchCase): number {
  let f = c.op === 'move' ? 1 | 2 : 0;
  for (const name of c.flags) f |= FLAG_BITS[name];
  // The RFC's relocation flags are rejected without MAYMOVE (check_mremap_params).
  if (c.op !== 'move' && c.flags.length) f |= 1;
  return f;
}

/** One matrix entry as written (before expansion); every field may also be a list (matrix.ts). */
export type MatrixEntry = Record<string, unknown>;
