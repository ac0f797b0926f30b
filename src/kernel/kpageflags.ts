/**
 * /proc/kpageflags and /proc/kpagecount (fs/proc/page.c; root only; index = PFN, one u64
 * each). Bit numbers from include/uapi/linux/kernel-page-flags.h; bits above 26 are
 * kernel-internal (KPF_RESERVED… behind CONFIG_DEBUG) and are kept as `bitNN`.
 */
import { native } from '../native.js';
import { err, ok, type Result } from '../space/result.js';

export const KPF = {
  LOCKED: 0,
  ERROR: 1,
  REFERENCED: 2,
  UPTODATE: 3,
  DIRTY: 4,
  LRU: 5,
  ACTIVE: 6,
  SLAB: 7,
  WRITEBACK: 8,
  RECLAIM: 9,
  BUDDY: 10,
  MMAP: 11,
  ANON: 12,
  SWAPCACHE: 13,
  SWAPBACKED: 14,
  COMPOUND_HEAD: 15,
  COMPOUND_TAIL: 16,
  HUGE: 17,
  UNEVICTABLE: 18,
  HWPOISON: 19,
  NOPAGE: 20,
  KSM: 21,
  THP: 22,
  OFFLINE: 23,
  ZERO_PAGE: 24,
  IDLE: 25,
  PGTABLE: 26,
} as const;

export type KpfName = keyof typeof KPF;

const BY_BIT = new Map<number, string>(Object.entries(KPF).map(([k, v]) => [v, k]));

/** Names of the set bits; unknown bits as 'bitNN'. */
export function kpageflagNames(flags: bigint): string[] {
  const out: string[] = [];
  for (let b = 0; b < 64; b++) {
    if ((flags >> BigInt(b)) & 1n) out.push(BY_BIT.get(b) ?? `bit${b}`);
  }
  return out;
}

export function hasKpf(flags: bigint, name: KpfName): boolean {
  return ((flags >> BigInt(KPF[name])) & 1n) === 1n;
}

/** A decoded frame, for reports and the CLI. */
export interface FrameInfo {
  pfn: number;
  flags: bigint;
  names: string[];
  /** kpagecount: page_mapcount (0 for the zero page and free pages). */
  mapcount: bigint;
  anon: boolean;
  thp: boolean;
  compoundHead: boolean;
  compoundTail: boolean;
  ksm: boolean;
  zero: boolean;
}

function readKpage(file: 'kpageflags' | 'kpagecount', pfns: Float64Array): Result<BigUint64Array> {
  const o = native.procOpen(0, file);
  if (!o.ok) return err(o.errno);
  try {
    const out = new BigUint64Array(pfns.length);
    const r = native.kpageRead(o.value, pfns, out);
    return r.ok ? ok(out) : err(r.errno);
  } finally {
    native.procClose(o.value);
  }
}

/** Raw kpageflags of each PFN (consecutive PFNs are read with one pread). */
export function readKpageflags(pfns: Float64Array): Result<BigUint64Array> {
  return readKpage('kpageflags', pfns);
}

/** Raw kpagecount (mapcount) of each PFN. */
export function readKpagecount(pfns: Float64Array): Result<BigUint64Array> {
  return readKpage('kpagecount', pfns);
}

/** Flags and mapcount of each PFN, decoded. */
export function inspectFrames(pfns: readonly number[]): Result<FrameInfo[]> {
  const arr = Float64Array.from(pfns);
  const f = readKpageflags(arr);
  if (!f.ok) return f;
  const c = readKpagecount(arr);
  if (!c.ok) return c;
  return ok(
    pfns.map((pfn, i) => {
      const flags = f.value[i]!;
      return {
        pfn,
        flags,
        names: kpageflagNames(flags),
        mapcount: c.value[i]!,
        anon: hasKpf(flags, 'ANON'),
        thp: hasKpf(flags, 'THP'),
        compoundHead: hasKpf(flags, 'COMPOUND_HEAD'),
        compoundTail: hasKpf(flags, 'COMPOUND_TAIL'),
        ksm: hasKpf(flags, 'KSM'),
        zero: hasKpf(flags, 'ZERO_PAGE'),
      };
    }),
  );
}
