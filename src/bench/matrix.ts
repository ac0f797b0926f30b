/**
 * Benchmark matrices: the built-in presets and user files (docs/bench-matrix.schema.json).
 * A matrix entry may give any field as a list; the entry expands to the cartesian product.
 * `dst: "same"` pairs the destination with the source alignment instead of crossing it.
 */
import fs from 'node:fs';
import { JsonInputError, parseJsonWithLines } from './jsonpos.js';
import { SELFTEST_CASES, selftestEntry } from './selftest-cases.js';
import type { MatrixEntry } from './types.js';
import {
  ALIGN_BYTES,
  GIB,
  KIB,
  MIB,
  PAGE,
  PMD_SIZE,
  caseId,
  type AlignSpec,
  type BenchCase,
  type BenchFlag,
} from './types.js';

/**
 * Upper bound of samples (and warm-up samples) per case: each sample is a double in the
 * sampler's shared page and in the results line, so 1e6 is 8 MB and a ~10 MB line.
 */
export const MAX_SAMPLES = 1_000_000;

export interface Matrix {
  /** Where it came from: "preset quick" or a file path. */
  source: string;
  samples: number;
  warmup: number;
  cases: BenchCase[];
}

/** One matrix entry as written (before expansion); every field may also be a list. */
export type { MatrixEntry } from './types.js';

const FIELDS = [
  'op',
  'size',
  'newSize',
  'src',
  'dst',
  'kind',
  'populate',
  'thp',
  'flags',
  'neighbour',
  'place',
  'forkChild',
  'verify',
  'firstShot',
] as const;

const DEFAULTS: BenchCase = {
  op: 'move',
  size: PAGE,
  newSize: PAGE,
  src: 'pte',
  dst: 'pte',
  kind: 'private-anon',
  populate: 1,
  thp: false,
  flags: [],
  neighbour: 'none',
  place: 'slots',
  forkChild: false,
  verify: true,
  firstShot: false,
};

class FieldError extends Error {}

/** "4K", "2M", "1G", "2M+4K", or a number of bytes; page-aligned and positive. */
export function parseSize(v: unknown): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d+[KMG]?(\s*[+-]\s*\d+[KMG]?)*\s*$/i.test(v)) {
    n = 0;
    for (const m of v.matchAll(/([+-]?)\s*(\d+)([KMG]?)/gi)) {
      const unit = { '': 1, K: KIB, M: MIB, G: GIB }[m[3]!.toUpperCase()] ?? 1;
      n += (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit;
    }
  } else
    throw new FieldError(`expected a size like 4096, "4K", "2M+4K" (got ${JSON.stringify(v)})`);
  if (!Number.isSafeInteger(n) || n <= 0 || n % PAGE !== 0)
    throw new FieldError(`size must be a positive multiple of 4096 (got ${n})`);
  if (n > 64 * GIB) throw new FieldError(`size must be at most 64G (got ${n})`);
  return n;
}

export function parseAlign(v: unknown): AlignSpec {
  if (typeof v === 'string' && v in ALIGN_BYTES) return v as AlignSpec;
  if (typeof v === 'string') {
    const m = /^pmd\+(.+)$/i.exec(v);
    if (m) {
      const off = parseSize(m[1]);
      if (off >= PMD_SIZE) throw new FieldError(`offset inside a PMD must be below 2M (got ${v})`);
      return off;
    }
  }
  throw new FieldError(
    `expected one of pte, 64k, 1m, pmd, pud, or "pmd+OFFSET" (got ${JSON.stringify(v)})`,
  );
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new FieldError(`expected one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
}

function bool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  throw new FieldError(`expected true or false (got ${JSON.stringify(v)})`);
}

function setField(c: BenchCase, field: (typeof FIELDS)[number], v: unknown): void {
  switch (field) {
    case 'op':
      c.op = oneOf(v, ['move', 'grow', 'shrink'] as const);
      return;
    case 'size':
      c.size = parseSize(v);
      return;
    case 'newSize':
      c.newSize = parseSize(v);
      return;
    case 'src':
      c.src = parseAlign(v);
      return;
    case 'dst':
      c.dst = v === 'same' ? c.src : parseAlign(v);
      return;
    case 'kind':
      c.kind = oneOf(v, ['private-anon', 'shared-anon', 'memfd'] as const);
      return;
    case 'populate':
      if (v === 'none') c.populate = 0;
      else if (v === 'full') c.populate = 1;
      else if (typeof v === 'number' && v >= 0 && v <= 1) c.populate = Math.round(v * 1000) / 1000;
      else
        throw new FieldError(
          `expected "none", "full" or a fraction 0..1 (got ${JSON.stringify(v)})`,
        );
      return;
    case 'thp':
      c.thp = bool(v);
      return;
    case 'flags':
      if (!Array.isArray(v)) throw new FieldError('expected a list of flag names');
      c.flags = v.map((f) =>
        oneOf(f, ['DONTUNMAP', 'RELOCATE_ANON', 'MUST_RELOCATE_ANON'] as const),
      ) as BenchFlag[];
      return;
    case 'neighbour':
      c.neighbour = oneOf(v, ['none', 'merge-partner', 'preamble', 'selftest-preamble'] as const);
      return;
    case 'place':
      c.place = oneOf(v, ['slots', 'selftest'] as const);
      return;
    case 'forkChild':
      c.forkChild = bool(v);
      return;
    case 'verify':
      c.verify = bool(v);
      return;
    case 'firstShot':
      c.firstShot = bool(v);
  }
}

/** Expands one entry; `where(path)` names the line of a field for errors. */
export function expandEntry(
  entry: MatrixEntry,
  onError: (field: string, reason: string) => never = (f, r) => {
    throw new Error(`${f}: ${r}`);
  },
): BenchCase[] {
  for (const k of Object.keys(entry)) {
    if (k !== 'name' && !(FIELDS as readonly string[]).includes(k))
      onError(k, `unknown field (known: ${FIELDS.join(', ')})`);
  }
  // Lists cross, except `flags`, which is a list by nature: a list of lists crosses.
  const axes = FIELDS.map((f) => {
    const v = entry[f];
    if (v === undefined) return [undefined];
    if (f === 'flags') return Array.isArray(v) && v.some(Array.isArray) ? v : [v];
    return Array.isArray(v) ? v : [v];
  });
  let combos: unknown[][] = [[]];
  for (const axis of axes) combos = combos.flatMap((c) => axis.map((v) => [...c, v]));
  const out: BenchCase[] = [];
  for (const combo of combos) {
    const c: BenchCase = { ...DEFAULTS, flags: [] };
    FIELDS.forEach((f, idx) => {
      const v = combo[idx];
      if (v === undefined) return;
      try {
        setField(c, f, v);
      } catch (e) {
        if (e instanceof FieldError) onError(f, e.message);
        throw e;
      }
    });
    if (entry.newSize === undefined)
      c.newSize =
        c.op === 'grow' ? 2 * c.size : c.op === 'shrink' ? Math.max(PAGE, c.size / 2) : c.size;
    if (entry.dst === undefined) c.dst = c.src;
    if (c.op === 'move') c.newSize = c.size;
    if (c.op === 'grow' && c.newSize <= c.size) onError('newSize', 'grow needs newSize > size');
    if (c.op === 'shrink' && c.newSize >= c.size) onError('newSize', 'shrink needs newSize < size');
    if (c.thp && c.kind !== 'private-anon')
      onError('thp', 'THP via MADV_HUGEPAGE is benchmarked for private-anon only');
    if (
      c.place === 'selftest' &&
      (c.op !== 'move' || typeof c.src === 'number' || typeof c.dst === 'number')
    )
      onError(
        'place',
        'place "selftest" is for moves between named alignments (pte, 64k, 1m, pmd, pud)',
      );
    if (c.neighbour === 'selftest-preamble' && c.place !== 'selftest')
      onError('neighbour', 'the selftest preamble goes with place "selftest"');
    if (c.firstShot && c.place !== 'selftest')
      onError('firstShot', 'the selftest\'s first shot goes with place "selftest"');
    out.push(c);
  }
  return out;
}

function dedupe(cases: BenchCase[]): BenchCase[] {
  const seen = new Set<string>();
  return cases.filter((c) => {
    const id = caseId(c);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

const ALIGNS = ['pte', '1m', 'pmd'] as const;

/** The built-in matrices. */
export const PRESETS: Record<
  string,
  { samples: number; warmup: number; entries: MatrixEntry[]; about: string }
> = {
  quick: {
    about: 'one of each case kind at small sizes (< 1 minute)',
    samples: 200,
    warmup: 20,
    entries: [
      { size: ['4K', '64K', '2M'], src: ['pte', 'pmd'], dst: 'same' },
      { size: '4M', src: 'pmd+4K', dst: 'same' },
      { size: '4M', src: 'pmd', thp: true },
      { size: '64K', kind: ['shared-anon', 'memfd'] },
      { size: '2M', src: 'pmd', populate: [0, 0.25] },
      { size: '64K', flags: ['DONTUNMAP'] },
      { size: '64K', neighbour: ['merge-partner', 'preamble'] },
      { size: '64K', forkChild: true },
      { size: '64K', flags: [['RELOCATE_ANON'], ['MUST_RELOCATE_ANON']] },
      { op: ['grow', 'shrink'], size: '64K' },
    ],
  },
  default: {
    about:
      'sizes 4K..64M × alignments × memory kinds, populations, flags, neighbours (< 10 minutes)',
    samples: 30,
    warmup: 3,
    entries: [
      {
        size: ['4K', '16K', '64K', '256K', '1M', '2M', '8M', '32M', '64M'],
        src: [...ALIGNS],
        dst: [...ALIGNS],
      },
      { size: ['2M', '8M', '64M'], src: 'pmd+4K', dst: 'same' },
      { size: ['2M', '8M', '32M'], src: 'pmd', kind: ['shared-anon', 'memfd'] },
      { size: ['2M', '8M', '32M'], src: 'pte', kind: ['shared-anon', 'memfd'] },
      { size: ['8M', '32M'], src: ['pmd', 'pte'], thp: true },
      { size: '8M', src: ['pte', 'pmd'], populate: [0, 0.01, 0.1, 0.5] },
      { size: ['64K', '8M'], src: ['pte', 'pmd'], flags: ['DONTUNMAP'] },
      { size: ['64K', '8M'], src: ['pte', 'pmd'], neighbour: ['merge-partner', 'preamble'] },
      { size: '8M', src: 'pmd+64K', dst: 'same', neighbour: ['none', 'preamble'] },
      { size: ['64K', '8M'], src: 'pmd', forkChild: true },
      { size: ['64K', '8M'], flags: [['RELOCATE_ANON'], ['MUST_RELOCATE_ANON']] },
      { op: ['grow', 'shrink'], size: ['64K', '8M'], src: ['pte', 'pmd'] },
      { size: '256M', src: ['pte', 'pmd'], dst: 'same' },
      { size: '1G', src: ['pmd', 'pud'], dst: 'same' },
    ],
  },
  selftest: {
    about:
      "mremap_test.c's timed cases one to one: its sizes, alignments, placement, shared anon (src/bench/selftest-cases.ts)",
    samples: 10,
    warmup: 1,
    entries: SELFTEST_CASES.map(selftestEntry),
  },
  'mutual-alignment': {
    about: 'sizes × PMD offsets around the boundary: try_realign_addr on and off',
    samples: 30,
    warmup: 3,
    entries: [
      {
        size: ['4K', '8K', '1M', '2M', '2M+4K', '4M', '8M'],
        src: ['pmd+4K', 'pmd+64K', 'pmd+1M', 'pmd+2044K'],
        dst: 'same',
      },
      {
        size: ['2M', '2M+4K', '8M'],
        src: ['pmd+4K', 'pmd+2044K'],
        dst: 'same',
        neighbour: 'preamble',
      },
      { size: ['2M', '8M'], src: 'pmd+4K', dst: 'pmd+8K' },
    ],
  },
  'relocate-anon': {
    about: 'populated fraction × folio size, with and without RELOCATE_ANON (where supported)',
    samples: 30,
    warmup: 3,
    entries: [
      {
        size: '8M',
        src: 'pmd',
        populate: [0.01, 0.25, 1],
        thp: [false, true],
        flags: [[], ['RELOCATE_ANON'], ['MUST_RELOCATE_ANON']],
      },
      { size: '8M', src: 'pmd', forkChild: true, flags: [[], ['RELOCATE_ANON']] },
    ],
  },
};

export function presetMatrix(name: string): Matrix {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset "${name}" (known: ${Object.keys(PRESETS).join(', ')})`);
  const cases = dedupe(p.entries.flatMap((e) => expandEntry(e)));
  return { source: `preset ${name}`, samples: p.samples, warmup: p.warmup, cases };
}

/** Reads and validates a matrix file; errors name the file, line and field (JsonInputError). */
export function loadMatrix(file: string): Matrix {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new JsonInputError(file, 0, '', (e as Error).message);
  }
  const { value, lines } = parseJsonWithLines(text, file);
  const at = (path: string) => lines.get(path) ?? 1;
  const bad = (path: string, reason: string): never => {
    throw new JsonInputError(file, at(path), path, reason);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad('$', 'a matrix is an object with a "cases" list');
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!['$schema', 'samples', 'warmup', 'cases', 'description'].includes(k))
      bad(`$.${k}`, 'unknown field (known: samples, warmup, cases, description)');
  }
  const count = (k: 'samples' | 'warmup', dflt: number, min: number): number => {
    const v = obj[k];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_SAMPLES)
      bad(`$.${k}`, `expected an integer from ${min} to ${MAX_SAMPLES}`);
    return v as number;
  };
  const samples = count('samples', 30, 1);
  const warmup = count('warmup', 3, 0);
  if (!Array.isArray(obj.cases) || obj.cases.length === 0)
    bad(obj.cases === undefined ? '$' : '$.cases', 'expected a non-empty "cases" list');
  const cases: BenchCase[] = [];
  (obj.cases as unknown[]).forEach((entry, i) => {
    const path = `$.cases[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      bad(path, 'each case is an object');
    cases.push(
      ...expandEntry(entry as MatrixEntry, (field, reason) =>
        bad(lines.has(`${path}.${field}`) ? `${path}.${field}` : path, reason),
      ),
    );
  });
  return { source: file, samples, warmup, cases: dedupe(cases) };
}
