/**
 * Where a case's source, destination and neighbour go inside an arena, and the parameter
 * object native/timing.cc:BenchCase reads (src/native.ts NativeBenchParams). Source and destination sit in different 1 GiB
 * slots, so a populated source never leaves a PMD table in the destination's PUD (that
 * would turn a PUD move into a WARN and a fallback: move_normal_pud needs pud_none).
 */
import { Arena } from '../kernel/arena.js';
import type { NativeBenchParams } from '../native.js';
import {
  ALIGN_BYTES,
  MIB,
  PAGE,
  PMD_SIZE,
  PUD_SIZE,
  caseFlags,
  type AlignSpec,
  type BenchCase,
} from './types.js';

/** The ranges of a case, as the sampler takes them (NativeBenchParams). */
export interface CaseLayout extends Pick<
  NativeBenchParams,
  'regionLo' | 'regionHi' | 'src' | 'dst' | 'oldLen' | 'newLen'
> {
  /** The neighbour below the destination, if any. */
  nbAddr: number;
  nbLen: number;
}

const roundUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** The lowest address ≥ x with exactly the alignment asked for (see AlignSpec). */
export function placeExact(x: number, spec: AlignSpec): number {
  if (typeof spec === 'number') return roundUp(x, PMD_SIZE) + spec;
  const a = ALIGN_BYTES[spec];
  return roundUp(x, 2 * a) + a;
}

/** Arena bytes a case needs: both ranges, the 2A rounding of each, and a PUD between. */
export function arenaSizeFor(c: BenchCase): number {
  const span = Math.max(c.size, c.newSize);
  return roundUp(2 * span, PUD_SIZE) + 8 * PUD_SIZE;
}

/** mremap_test.c main(): test_cases[14].config.dest_preamble_size = 10 * _4MB. */
export const SELFTEST_PREAMBLE = 40 * MIB;

/**
 * mremap_test.c remap_region(): one destination-alignment unit past the source's end,
 * rounded down to that alignment, moved up past the preamble, then made exactly aligned
 * (the alignment bit set) as get_source_mapping() does for the source.
 */
export function selftestDst(src: number, size: number, dstAlign: number, preamble: number): number {
  let d = Math.floor((src + size + dstAlign) / dstAlign) * dstAlign + preamble;
  if (Math.floor(d / dstAlign) % 2 === 0) d += dstAlign;
  return d;
}

export function layoutCase(c: BenchCase, arena: Pick<Arena, 'start' | 'end'>): CaseLayout {
  const lo = Number(arena.start);
  const span = Math.max(c.size, c.newSize);
  const src = placeExact(lo + PUD_SIZE, c.src);
  if (c.place === 'selftest') return selftestLayout(c, lo, src, Number(arena.end));
  // One free PUD after the source, and one PMD of room for the neighbour below dst.
  const dstBase = roundUp(src + span, PUD_SIZE) + PUD_SIZE + PMD_SIZE;
  let dst = c.op === 'move' ? placeExact(dstBase, c.dst) : dstBase;
  // Like mremap_test.c (destination one alignment unit past the source's end), equal named
  // alignments are not mutually PMD aligned where the level allows it ('1m' always is, the
  // PMD and PUD levels trivially): otherwise try_realign_addr would turn a "PTE-aligned"
  // move into PMD moves. Mutual alignment is asked for with "pmd+OFFSET".
  if (c.op === 'move' && typeof c.dst === 'string' && c.dst !== 'pmd' && c.dst !== 'pud') {
    const a = ALIGN_BYTES[c.dst];
    if (dst % PMD_SIZE === src % PMD_SIZE && 4 * a < PMD_SIZE) dst += 2 * a;
  }
  const nbLen = c.neighbour === 'none' ? 0 : PAGE;
  const hi = Math.min(roundUp(dst + span, PUD_SIZE) + PUD_SIZE, Number(arena.end));
  if (dst + span > hi) throw new Error(`layout: case does not fit its arena`);
  return {
    regionLo: lo,
    regionHi: hi,
    src,
    dst,
    oldLen: c.size,
    newLen: c.op === 'move' ? c.size : c.newSize,
    nbAddr: dst - nbLen,
    nbLen,
  };
}

// Nothing between source and destination but a hole (and the preamble): the destination
// shares the source's page tables where the selftest's does. Below the source the region is
// free, like the 40 MiB headroom get_source_mapping() keeps above mmap_min_addr.
function selftestLayout(c: BenchCase, lo: number, src: number, end: number): CaseLayout {
  if (typeof c.dst === 'number') throw new Error('layout: place "selftest" needs a named dst');
  const nbLen = c.neighbour === 'selftest-preamble' ? SELFTEST_PREAMBLE : 0;
  const dst = selftestDst(src, c.size, ALIGN_BYTES[c.dst], nbLen);
  const hi = Math.min(roundUp(dst + c.size, PUD_SIZE) + PUD_SIZE, end);
  if (dst + c.size > hi) throw new Error(`layout: case does not fit its arena`);
  return {
    regionLo: lo,
    regionHi: hi,
    src,
    dst,
    oldLen: c.size,
    newLen: c.size,
    nbAddr: dst - nbLen,
    nbLen,
  };
}

export interface SamplingOptions {
  samples: number;
  warmup: number;
  /** CPU to pin the sampling process to, or -1. */
  cpu: number;
  mode: NativeBenchParams['mode'];
  seed: number;
}

export function nativeParams(c: BenchCase, l: CaseLayout, o: SamplingOptions): NativeBenchParams {
  return {
    regionLo: l.regionLo,
    regionHi: l.regionHi,
    src: l.src,
    dst: l.dst,
    oldLen: l.oldLen,
    newLen: l.newLen,
    op: c.op === 'move' ? 'move' : 'resize',
    flags: caseFlags(c),
    kind: c.kind,
    populatePermille: Math.round(c.populate * 1000),
    thp: c.thp,
    neighbour: c.neighbour,
    neighbourAddr: l.nbAddr,
    neighbourLen: l.nbLen,
    forkHolder: c.forkChild,
    verify: c.verify,
    firstShot: c.firstShot === true,
    warmup: o.warmup,
    samples: o.samples,
    cpu: o.cpu,
    mode: o.mode,
    seed: o.seed,
  };
}

/** Empty brackets (two clock reads, nothing between): the timing overhead per sample. */
export function emptyBracketParams(
  samples: number,
  cpu: number,
  mode: NativeBenchParams['mode'],
): NativeBenchParams {
  return {
    regionLo: 0,
    regionHi: 0,
    src: 0,
    dst: 0,
    oldLen: 0,
    newLen: 0,
    op: 'empty',
    flags: 0,
    kind: 'private-anon',
    populatePermille: 0,
    thp: false,
    neighbour: 'none',
    neighbourAddr: 0,
    neighbourLen: 0,
    forkHolder: false,
    verify: false,
    firstShot: false,
    warmup: Math.min(1000, samples),
    samples,
    cpu,
    mode,
    seed: 0,
  };
}
