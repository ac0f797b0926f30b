/**
 * Behaviour traits, measured: what this kernel build *does*, found by small experiments in
 * an arena (or read from sysfs/procfs/debugfs), never inferred from the version. Boot
 * parameters (pvm_no_zero_page=1), Kconfig (CONFIG_PT_RECLAIM) and sysfs knobs
 * (use_zero_page) change these on kernels of the same release.
 */
import fs from 'node:fs';
import { MADV, MAP, MLOCK, PMD_SIZE, PAGE_SIZE, PROT } from '../space/constants.js';
import { Arena } from './arena.js';
import { KPF, readKpageflags } from './kpageflags.js';
import { ownMapCount } from './maps.js';
import { PG, readPagemap } from './pagemap.js';
import { PAGE_IS, scanPagemap } from './pagemap-scan.js';
import { readSmaps } from './smaps.js';
import { sys } from './syscalls.js';

/** How a zero-page answer was read: kpageflags ZERO_PAGE (root), PAGEMAP_SCAN PFNZERO (6.7+), or pagemap's exclusive bit. */
export type ZeroMethod = 'kpageflags' | 'pagemap_scan' | 'exclusive_bit';

export interface MeasuredTrait<T> {
  /** null when this kernel gives no way to tell (say why in `note`). */
  value: T | null;
  method: string;
  note?: string;
}

export interface KernelTraits {
  zeroPage: MeasuredTrait<boolean>;
  hugeZeroPage: MeasuredTrait<boolean>;
  ptReclaim: MeasuredTrait<boolean>;
  faultAroundBytes: MeasuredTrait<number>;
  thp: {
    enabled: string | null;
    defrag: string | null;
    /** transparent_hugepage/use_zero_page (null where absent). */
    useZeroPage: boolean | null;
    /** Per-size mTHP settings (hugepages-NkB/enabled), keyed by size in kB. */
    sizes: Record<string, string>;
  };
  /** VmFlags mnemonics seen in this process's smaps and the probe's own VMAs. */
  vmflagMnemonics: string[];
  /** Mnemonics a probe VMA carried the flag for and the kernel did not print (e.g. 'lf' on 6.1). */
  vmflagMissing: string[];
  /** MADV_GUARD_INSTALL accepted (6.13+). */
  guardRegions: boolean;
  pagemapScan: boolean;
  pfnVisible: boolean;
  /** This process's VMA count against vm.max_map_count: the kernel counts Node's VMAs too. */
  mapCount: { own: number; max: number | null };
  overcommit: number | null;
}

const THP = '/sys/kernel/mm/transparent_hugepage';
const FLAGS = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;
const RW = PROT.READ | PROT.WRITE;

function readTrim(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function must<T>(what: string, r: { ok: true; value: T } | { ok: false; code: string }): T {
  if (!r.ok) throw new Error(`probe traits: ${what} failed: ${r.code}`);
  return r.value;
}

/** Is the page at addr (present, read-faulted) a zero page? Uses the best evidence there is. */
function isZeroPage(addr: bigint, len: bigint): { zero: boolean[]; method: ZeroMethod } {
  const pm = must('pagemap read', readPagemap(process.pid, addr, addr + len));
  const n = pm.count;
  const pfns: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = pm.state[i]!;
    pfns.push(s & PG.PRESENT && !(s & PG.PFN_HIDDEN) ? pm.pfn[i]! : -1);
  }
  if (pfns.every((p) => p > 0)) {
    const kf = readKpageflags(Float64Array.from(pfns));
    if (kf.ok) {
      const bit = 1n << BigInt(KPF.ZERO_PAGE);
      return { zero: [...kf.value].map((f) => (f & bit) !== 0n), method: 'kpageflags' };
    }
  }
  const sc = scanPagemap(process.pid, addr, addr + len, {
    anyof: PAGE_IS.PFNZERO,
    returnMask: PAGE_IS.PFNZERO,
  });
  if (sc.ok) {
    const zero = new Array<boolean>(n).fill(false);
    for (const r of sc.value) {
      for (let a = r.start; a < r.end; a += PAGE_SIZE) zero[Number((a - addr) / PAGE_SIZE)] = true;
    }
    return { zero, method: 'pagemap_scan' };
  }
  // pte_to_pagemap_entry sets PM_MMAP_EXCLUSIVE only for a normal page mapped once; the zero
  // page has no struct page behind vm_normal_page(), so it never is.
  const zero: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const s = pm.state[i]!;
    zero.push((s & PG.PRESENT) !== 0 && (s & PG.EXCLUSIVE) === 0);
  }
  return { zero, method: 'exclusive_bit' };
}

function presentPages(addr: bigint, len: bigint): number {
  const pm = must('pagemap read', readPagemap(process.pid, addr, addr + len));
  let n = 0;
  for (let i = 0; i < pm.count; i++) if (pm.state[i]! & PG.PRESENT) n++;
  return n;
}

/** One page, not THP-eligible (NOHUGEPAGE), read-faulted with MADV_POPULATE_READ. */
function probeZeroPage(arena: Arena): MeasuredTrait<boolean> {
  arena.reset('empty');
  const a = arena.page(0);
  must('mmap', sys.mmap(a, PAGE_SIZE, RW, FLAGS));
  sys.madvise(a, PAGE_SIZE, MADV.NOHUGEPAGE);
  must('read fault', sys.readTag(0, a));
  const z = isZeroPage(a, PAGE_SIZE);
  return { value: z.zero[0]!, method: z.method };
}

function thpMode(): string | null {
  const s = readTrim(`${THP}/enabled`);
  const m = s === null ? null : /\[([^\]]+)\]/.exec(s);
  return m ? m[1]! : s;
}

/** A PMD-aligned MADV_HUGEPAGE range (THP-eligible under 'always' and 'madvise'). */
function hugeRange(arena: Arena): bigint {
  arena.reset('empty');
  const a = arena.page(0); // the arena is PMD-aligned
  must('mmap', sys.mmap(a, PMD_SIZE, RW, FLAGS));
  must('MADV_HUGEPAGE', sys.madvise(a, PMD_SIZE, MADV.HUGEPAGE));
  return a;
}

/** Can this machine allocate a THP here at all? A write fault must map all 512 pages. */
function thpAllocates(arena: Arena): boolean {
  const a = hugeRange(arena);
  must('write fault', sys.writeTag(0, a, 1n));
  return presentPages(a, PMD_SIZE) === 512;
}

function probeHugeZeroPage(arena: Arena, zeroPage: boolean | null): MeasuredTrait<boolean> {
  const mode = thpMode();
  if (mode === null || mode === 'never') {
    return {
      value: null,
      method: 'none',
      note: `THP is ${mode ?? 'absent'}: no huge read fault to observe`,
    };
  }
  const a = hugeRange(arena);
  must('read fault', sys.readTag(0, a));
  const present = presentPages(a, PMD_SIZE);
  if (present !== 512) {
    // The huge fault fell back to a small page: neither a huge zero page nor a THP was had.
    return zeroPage === false
      ? { value: false, method: 'read_fault', note: 'no zero page at all' }
      : {
          value: null,
          method: 'read_fault',
          note: `a huge read fault mapped ${present} page(s), not 512`,
        };
  }
  const z = isZeroPage(a, PAGE_SIZE);
  return { value: z.zero[0]!, method: z.method };
}

/**
 * CONFIG_PT_RECLAIM: a small page leaves a PTE table in the slot; MADV_DONTNEED of the whole
 * PMD range frees it only with PT reclaim, and then a THP write fault maps the slot huge.
 */
function probePtReclaim(arena: Arena): MeasuredTrait<boolean> {
  const mode = thpMode();
  if (mode === null || mode === 'never') {
    return {
      value: null,
      method: 'none',
      note: `THP is ${mode ?? 'absent'}: a freed PTE table cannot be seen`,
    };
  }
  if (!thpAllocates(arena)) {
    return {
      value: null,
      method: 'thp_fault',
      note: 'no THP could be allocated for the experiment',
    };
  }
  const a = hugeRange(arena);
  must('MADV_NOHUGEPAGE', sys.madvise(a, PMD_SIZE, MADV.NOHUGEPAGE));
  must('write fault', sys.writeTag(0, a, 1n));
  must('MADV_DONTNEED', sys.madvise(a, PMD_SIZE, MADV.DONTNEED));
  must('MADV_HUGEPAGE', sys.madvise(a, PMD_SIZE, MADV.HUGEPAGE));
  must('write fault', sys.writeTag(0, a, 2n));
  return { value: presentPages(a, PMD_SIZE) === 512, method: 'thp_fault' };
}

/**
 * debugfs when mounted and readable; else measured: a read fault in the middle of a cached
 * 2 MiB memfd mapping maps fault_around_bytes worth of pages (do_fault_around).
 */
function probeFaultAround(arena: Arena): MeasuredTrait<number> {
  const dbg = readTrim('/sys/kernel/debug/fault_around_bytes');
  if (dbg !== null && /^\d+$/.test(dbg)) return { value: Number(dbg), method: 'debugfs' };
  arena.reset('empty');
  const fd = must('memfd_create', sys.memfdCreate('mremap-lab-probe'));
  try {
    const buf = Buffer.alloc(Number(PMD_SIZE), 1);
    fs.writeSync(fd, buf, 0, buf.length, 0);
    const a = arena.page(0);
    must('mmap', sys.mmap(a, PMD_SIZE, PROT.READ, MAP.PRIVATE | MAP.FIXED, fd, 0n));
    must('read fault', sys.readTag(0, a + 256n * PAGE_SIZE));
    return { value: presentPages(a, PMD_SIZE) * 4096, method: 'measured' };
  } finally {
    sys.close(fd);
  }
}

function smapsFlagsAt(addr: bigint): readonly string[] | null {
  const s = readSmaps(process.pid);
  if (!s.ok) return null;
  const e = s.value.find((x) => x.start <= addr && addr < x.end);
  return e ? e.vmFlags.codes : null;
}

/** The mnemonics this process's smaps shows, and 'lf' checked on a MLOCK_ONFAULT VMA. */
function probeMnemonics(arena: Arena): { seen: string[]; missing: string[] } {
  const seen = new Set<string>();
  const s = readSmaps(process.pid);
  if (s.ok) for (const e of s.value) for (const c of e.vmFlags.codes) seen.add(c);
  const missing: string[] = [];
  arena.reset('empty');
  const a = arena.page(0);
  must('mmap', sys.mmap(a, PAGE_SIZE, RW, FLAGS));
  if (sys.mlock2(a, PAGE_SIZE, MLOCK.ONFAULT).ok) {
    const f: readonly string[] = smapsFlagsAt(a) ?? [];
    for (const c of f) seen.add(c);
    // fs/proc/task_mmu.c prints "lf" since 6.2 (8614d6c5eda0); VM_LOCKONFAULT existed before.
    if (!f.includes('lf')) missing.push('lf');
    sys.munlock(a, PAGE_SIZE);
  }
  return { seen: [...seen].sort(), missing };
}

function probeGuardRegions(arena: Arena): boolean {
  arena.reset('empty');
  const a = arena.page(0);
  must('mmap', sys.mmap(a, PAGE_SIZE, RW, FLAGS));
  const r = sys.madvise(a, PAGE_SIZE, MADV.GUARD_INSTALL);
  if (r.ok) sys.madvise(a, PAGE_SIZE, MADV.GUARD_REMOVE);
  return r.ok;
}

export interface TraitInputs {
  pagemapScan: boolean;
  pfnVisible: boolean;
  maxMapCount: number | null;
  overcommit: number | null;
  thpDefrag: string | null;
  thpSizes: Record<string, string>;
}

/** Runs the experiments in a private PMD-aligned arena of its own. */
export function probeTraits(inputs: TraitInputs): KernelTraits {
  const arena = Arena.reserve({ size: 2n * PMD_SIZE, align: PMD_SIZE, interior: 'empty' });
  try {
    const zeroPage = probeZeroPage(arena);
    const mn = probeMnemonics(arena);
    const useZero = readTrim(`${THP}/use_zero_page`);
    return {
      zeroPage,
      hugeZeroPage: probeHugeZeroPage(arena, zeroPage.value),
      ptReclaim: probePtReclaim(arena),
      faultAroundBytes: probeFaultAround(arena),
      thp: {
        enabled: thpMode(),
        defrag: inputs.thpDefrag,
        useZeroPage: useZero === null ? null : useZero === '1',
        sizes: inputs.thpSizes,
      },
      vmflagMnemonics: mn.seen,
      vmflagMissing: mn.missing,
      guardRegions: probeGuardRegions(arena),
      pagemapScan: inputs.pagemapScan,
      pfnVisible: inputs.pfnVisible,
      mapCount: { own: ownMapCount(), max: inputs.maxMapCount },
      overcommit: inputs.overcommit,
    };
  } finally {
    arena.release();
  }
}
