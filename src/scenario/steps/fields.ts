/**
 * The values inside a step, from their scenario spellings to the numbers the syscall gets:
 * protections ("rw"), madvise advice ("DONTNEED"), mremap flags (any FlagSpec) and a map
 * step's MAP_* bits. The schema checks steps with these same functions, so a file that
 * loads is one the runner, the fuzzer and the C exporter read alike.
 */
import { MADV, MAP, PROT, UFFD_FEATURE, UFFDIO_REGISTER_MODE } from '../../space/constants.js';
import { FlagSyntaxError, parseMremapFlags, type FlagSpec } from '../../space/flags.js';
import { ScenarioInputError } from '../address.js';
import type { MapStep } from '../types.js';

const PROT_BITS: Record<string, number> = { r: PROT.READ, w: PROT.WRITE, x: PROT.EXEC };

export function parseProt(p: string | undefined, path: string): number {
  if (p === undefined) return PROT.READ | PROT.WRITE;
  if (p === 'none' || p === '---' || p === '') return PROT.NONE;
  let v = 0;
  for (const ch of p) {
    if (ch === '-') continue;
    const bit = PROT_BITS[ch];
    if (bit === undefined)
      throw new ScenarioInputError(
        `unknown protection "${p}": use letters r, w, x or "none"`,
        path,
      );
    v |= bit;
  }
  return v;
}

/** A step's mremap flags as the full unsigned long (space/flags.ts is the only parser). */
export function parseFlags(flags: FlagSpec | undefined, path: string): bigint {
  try {
    return parseMremapFlags(flags);
  } catch (e) {
    if (!(e instanceof FlagSyntaxError)) throw e;
    throw new ScenarioInputError(e.message, e.index === undefined ? path : `${path}[${e.index}]`);
  }
}

export function parseAdvice(a: string | number, path: string): number {
  if (typeof a === 'number') return a;
  const v = (MADV as Record<string, number>)[a.replace(/^MADV_/, '')];
  if (v === undefined)
    throw new ScenarioInputError(
      `unknown madvise advice "${a}": use e.g. DONTNEED, HUGEPAGE, POPULATE_WRITE`,
      path,
    );
  return v;
}

/** The raw MAP_* bits of a map step. */
export function mapStepFlags(step: MapStep): number {
  const kind = step.kind ?? 'anon';
  const priv = kind === 'anon' || kind === 'memfd-private' || kind === 'file-private';
  let flags = priv ? MAP.PRIVATE : MAP.SHARED;
  if (kind === 'anon' || kind === 'shared') flags |= MAP.ANONYMOUS;
  const placement = step.placement ?? 'fixed';
  if (placement === 'fixed') flags |= MAP.FIXED;
  if (placement === 'noreplace') flags |= MAP.FIXED_NOREPLACE;
  if (step.noreserve) flags |= MAP.NORESERVE;
  if (step.populate) flags |= MAP.POPULATE;
  if (step.locked) flags |= MAP.LOCKED;
  if (step.hugetlb) flags |= MAP.HUGETLB;
  if (step.growsdown) flags |= MAP.GROWSDOWN;
  return flags;
}

/**
 * A uffd step's features as UFFD_FEATURE_* bits. EVENT_FORK is refused: the fork event
 * hands the monitor a new fd for the child's ctx, which this tool does not take.
 */
export function parseUffdFeatures(names: unknown, path: string): number {
  if (!Array.isArray(names))
    throw new ScenarioInputError(
      'expected a list of UFFD_FEATURE_ names, e.g. ["EVENT_REMAP"]',
      path,
    );
  let v = 0;
  names.forEach((n, i) => {
    const name = typeof n === 'string' ? n : '';
    const bit = (UFFD_FEATURE as Record<string, number>)[name];
    if (bit === undefined || name === 'EVENT_FORK')
      throw new ScenarioInputError(
        `unknown userfaultfd feature ${JSON.stringify(n)}: use ${Object.keys(UFFD_FEATURE)
          .filter((k) => k !== 'EVENT_FORK')
          .join(', ')} (EVENT_FORK is not supported)`,
        `${path}[${i}]`,
      );
    v |= bit;
  });
  return v;
}

/** A uffd step's mode as UFFDIO_REGISTER_MODE_* bits (MISSING when absent). */
export function parseUffdMode(mode: unknown, path: string): number {
  if (mode === undefined) return UFFDIO_REGISTER_MODE.MISSING;
  const parts = Array.isArray(mode) ? mode : typeof mode === 'string' ? mode.split('|') : null;
  if (parts === null || parts.length === 0)
    throw new ScenarioInputError(
      'expected "missing", "wp", "minor", joined by "|" or a list',
      path,
    );
  let v = 0;
  for (const p of parts) {
    const bit =
      typeof p === 'string' && ['missing', 'wp', 'minor'].includes(p)
        ? (UFFDIO_REGISTER_MODE as Record<string, number>)[p.toUpperCase()]
        : undefined;
    if (bit === undefined)
      throw new ScenarioInputError(
        `unknown userfaultfd mode ${JSON.stringify(p)}: use "missing", "wp" or "minor"`,
        path,
      );
    v |= bit;
  }
  return v;
}
