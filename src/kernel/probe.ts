/**
 * What this kernel can do, found out by asking it: every answer comes from a harmless call
 * inside an arena or from procfs/sysfs, never from the version string alone.
 */
import { rlimitStack, stackGuardGap } from './stack-guard.js';
import fs from 'node:fs';
import zlib from 'node:zlib';
import os from 'node:os';
import { MAP, MREMAP, PAGE_SIZE, PROT } from '../space/constants.js';
import { native } from '../native.js';
import { Arena } from './arena.js';
import { sys } from './syscalls.js';
import { probeProcfsIoctls } from './procfs-probe.js';
import { probeTraits, type KernelTraits } from './traits.js';

export interface FlagProbe {
  bit: number;
  name: string;
  accepted: boolean;
  /** 'ok' or the errno name the kernel gave. */
  result: string;
}

export interface ProbeResult {
  /** Bumped when a field changes meaning; documented in docs/probe.md (2: traits). */
  schema: 2;
  release: string;
  machine: string;
  pageSize: number;
  pmdSize: number;
  pudSize: number;
  thp: {
    enabled: string | null;
    defrag: string | null;
    /** Per-size mTHP settings (hugepages-NkB/enabled), keyed by size in kB. */
    sizes: Record<string, string>;
  };
  mremapFlags: FlagProbe[];
  /** The RFC's MREMAP_RELOCATE_ANON (8) and MREMAP_MUST_RELOCATE_ANON (16). */
  relocateAnon: { relocate: boolean; mustRelocate: boolean };
  /** Same-size MREMAP_FIXED moves may span several VMAs (remap_move, 6.17+). */
  multiVmaMove: boolean;
  procmapQuery: boolean;
  pagemapScan: boolean;
  /** pagemap shows PFNs (needs CAP_SYS_ADMIN since 4.2). */
  pagemapPfns: boolean;
  kpageflags: boolean;
  mseal: boolean;
  userfaultfd: boolean;
  /** From /proc/config.gz when present; null when the config is not available. */
  config: { haveMovePmd: boolean | null; haveMovePud: boolean | null; source: string | null };
  /** The 2 MiB hugetlb pool: total pages and pages free for new reservations (free - resv). */
  hugetlb: { total: number; available: number };
  maxMapCount: number | null;
  mmapMinAddr: number | null;
  overcommitMemory: number | null;
  /** mm/mmap.c stack_guard_gap in pages, from /proc/cmdline (256 unless `stack_guard_gap=`). */
  stackGuardGap: number;
  /** RLIMIT_STACK in bytes (/proc/self/limits); null when unlimited. */
  rlimitStack: number | null;
  /** What this build does, measured (zero page, PT reclaim, fault-around, …): docs/probe.md. */
  traits: KernelTraits;
  /**
   * Set when running inside a `mremap-lab vm` guest: the QEMU accelerator, so results can
   * say whether timings are a real CPU's (kvm) or an emulator's (tcg).
   */
  accel?: 'kvm' | 'tcg';
}

/** The vm layer's guest /init exports this (src/vm/qemu.ts ACCEL_ENV). */
function guestAccel(): { accel?: 'kvm' | 'tcg' } {
  const a = process.env['MREMAP_LAB_ACCEL'];
  return a === 'kvm' || a === 'tcg' ? { accel: a } : {};
}

function rlimitStackNumber(): number | null {
  const r = rlimitStack();
  return r === null ? null : Number(r);
}

function readTrim(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function readInt(path: string): number | null {
  const s = readTrim(path);
  return s === null ? null : Number.parseInt(s, 10);
}

/** The bracketed choice of a sysfs selector such as "always [madvise] never". */
export function selected(s: string | null): string | null {
  if (s === null) return null;
  const m = /\[([^\]]+)\]/.exec(s);
  return m ? m[1]! : s;
}

function thpSizes(): Record<string, string> {
  const dir = '/sys/kernel/mm/transparent_hugepage';
  const out: Record<string, string> = {};
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const m = /^hugepages-(\d+)kB$/.exec(e);
    if (!m) continue;
    const v = selected(readTrim(`${dir}/${e}/enabled`));
    if (v !== null) out[m[1]!] = v;
  }
  return out;
}

function kernelConfig(): ProbeResult['config'] {
  for (const path of ['/proc/config.gz', `/boot/config-${os.release()}`]) {
    let text: string;
    try {
      const raw = fs.readFileSync(path);
      text = path.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    } catch {
      continue;
    }
    const has = (name: string) => new RegExp(`^${name}=y$`, 'm').test(text);
    return {
      haveMovePmd: has('CONFIG_HAVE_MOVE_PMD'),
      haveMovePud: has('CONFIG_HAVE_MOVE_PUD'),
      source: path,
    };
  }
  return { haveMovePmd: null, haveMovePud: null, source: null };
}

const FLAG_NAMES: Record<number, string> = {
  1: 'MREMAP_MAYMOVE',
  2: 'MREMAP_FIXED',
  4: 'MREMAP_DONTUNMAP',
  8: 'MREMAP_RELOCATE_ANON (RFC)',
  16: 'MREMAP_MUST_RELOCATE_ANON (RFC)',
};
/** A bit no kernel defines: its answer shows how unknown bits are treated. */
const UNKNOWN_BIT = 1 << 20;

/**
 * Each bit is tried on a one-page private mapping in a private arena. MAYMOVE alone and the
 * RFC bits are tried as same-size calls (a no-op that returns addr when the flag passes
 * check_mremap_params); FIXED and DONTUNMAP need MAYMOVE and a destination, so they move
 * the page to a second arena page. Only EINVAL counts as "not accepted".
 */
function probeFlags(arena: Arena): FlagProbe[] {
  const a = arena.page(0);
  const b = arena.page(2);
  const out: FlagProbe[] = [];
  for (const bit of [1, 2, 4, 8, 16, UNKNOWN_BIT]) {
    arena.reset('empty');
    const m = sys.mmap(
      a,
      PAGE_SIZE,
      PROT.READ | PROT.WRITE,
      MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED,
    );
    if (!m.ok) throw new Error(`probe: mmap in the arena failed: ${m.code}`);
    const word = BigInt(bit);
    const moving = word === MREMAP.FIXED || word === MREMAP.DONTUNMAP;
    const flags = moving
      ? MREMAP.MAYMOVE | MREMAP.FIXED | word
      : word === MREMAP.MAYMOVE
        ? word
        : MREMAP.MAYMOVE | word;
    const r = sys.mremap(a, PAGE_SIZE, PAGE_SIZE, flags, moving ? b : 0n);
    out.push({
      bit,
      name: FLAG_NAMES[bit] ?? `unknown bit 0x${bit.toString(16)}`,
      accepted: r.ok || r.code !== 'EINVAL',
      result: r.ok ? 'ok' : r.code,
    });
  }
  return out;
}

/** Two adjacent VMAs of different protection, moved by one same-size FIXED call. */
function probeMultiVma(arena: Arena): boolean {
  arena.reset('empty');
  const a = arena.page(0);
  const anon = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;
  sys.mmap(a, PAGE_SIZE, PROT.READ | PROT.WRITE, anon);
  sys.mmap(a + PAGE_SIZE, PAGE_SIZE, PROT.READ, anon);
  const r = sys.mremap(
    a,
    2n * PAGE_SIZE,
    2n * PAGE_SIZE,
    MREMAP.MAYMOVE | MREMAP.FIXED,
    arena.page(8),
  );
  return r.ok;
}

function probePagemapPfns(arena: Arena): boolean {
  arena.reset('empty');
  const a = arena.page(0);
  sys.mmap(a, PAGE_SIZE, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED);
  sys.writeTag(0, a, 1n);
  try {
    const fd = fs.openSync('/proc/self/pagemap', 'r');
    try {
      const buf = Buffer.alloc(8);
      fs.readSync(fd, buf, 0, 8, Number((a / PAGE_SIZE) * 8n));
      const entry = buf.readBigUInt64LE(0);
      return (entry & (1n << 63n)) !== 0n && (entry & ((1n << 55n) - 1n)) !== 0n;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

function canRead(path: string): boolean {
  try {
    const fd = fs.openSync(path, 'r');
    try {
      return fs.readSync(fd, Buffer.alloc(8), 0, 8, 0) === 8;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

function probeMseal(arena: Arena): boolean {
  // mm/mseal.c:do_mseal() returns 0 for len 0 after its flag/alignment checks, so this
  // seals nothing (the arena stays releasable) yet tells ENOSYS apart.
  return sys.mseal(arena.start, 0n).ok;
}

function probeUffd(): boolean {
  const r = native.uffdOpen(0n);
  if (r.ok) sys.close(r.value);
  return r.ok;
}

const HUGETLB_2M = '/sys/kernel/mm/hugepages/hugepages-2048kB';

/** 2 MiB huge pages a new mapping could reserve now (free_hugepages - resv_hugepages). */
export function hugetlbAvailable(): number {
  return Math.max(
    0,
    (readInt(`${HUGETLB_2M}/free_hugepages`) ?? 0) - (readInt(`${HUGETLB_2M}/resv_hugepages`) ?? 0),
  );
}

export function probe(): ProbeResult {
  const arena = Arena.reserve({ size: 64n * PAGE_SIZE, align: 2n * 1024n * 1024n });
  try {
    const flags = probeFlags(arena);
    const accepted = (bit: number) => flags.find((f) => f.bit === bit)?.accepted ?? false;
    const ioctls = probeProcfsIoctls();
    const pmd = readInt('/sys/kernel/mm/transparent_hugepage/hpage_pmd_size');
    const pagemapPfns = probePagemapPfns(arena);
    const thp = {
      enabled: selected(readTrim('/sys/kernel/mm/transparent_hugepage/enabled')),
      defrag: selected(readTrim('/sys/kernel/mm/transparent_hugepage/defrag')),
      sizes: thpSizes(),
    };
    const maxMapCount = readInt('/proc/sys/vm/max_map_count');
    const overcommitMemory = readInt('/proc/sys/vm/overcommit_memory');
    return {
      schema: 2,
      release: native.unameRelease(),
      machine: os.machine(),
      pageSize: native.constants()['pageSize'] ?? 4096,
      // x86-64: PMD_SHIFT 21, PUD_SHIFT 30 (arch/x86/include/asm/pgtable_64_types.h).
      pmdSize: pmd ?? 2 * 1024 * 1024,
      pudSize: 1024 * 1024 * 1024,
      thp,
      mremapFlags: flags,
      relocateAnon: { relocate: accepted(8), mustRelocate: accepted(16) },
      multiVmaMove: probeMultiVma(arena),
      procmapQuery: ioctls.procmapQuery,
      pagemapScan: ioctls.pagemapScan,
      pagemapPfns,
      kpageflags: canRead('/proc/kpageflags'),
      mseal: probeMseal(arena),
      userfaultfd: probeUffd(),
      config: kernelConfig(),
      hugetlb: { total: readInt(`${HUGETLB_2M}/nr_hugepages`) ?? 0, available: hugetlbAvailable() },
      maxMapCount,
      mmapMinAddr: readInt('/proc/sys/vm/mmap_min_addr'),
      overcommitMemory,
      stackGuardGap: stackGuardGap(),
      rlimitStack: rlimitStackNumber(),
      traits: probeTraits({
        pagemapScan: ioctls.pagemapScan,
        pfnVisible: pagemapPfns,
        maxMapCount,
        overcommit: overcommitMemory,
        thpDefrag: thp.defrag,
        thpSizes: thp.sizes,
      }),
      ...guestAccel(),
    };
  } finally {
    arena.release();
  }
}
