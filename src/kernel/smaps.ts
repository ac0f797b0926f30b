/**
 * /proc/PID/smaps and smaps_rollup (fs/proc/task_mmu.c:show_smap, __show_smap,
 * show_smaps_rollup): the maps header line, then `Key: value kB` lines, then THPeligible,
 * ProtectionKey (with pkeys) and VmFlags. This is the rich, slow path (the kernel walks every
 * page table of every VMA); the snapshot only reads it when VmFlags are asked for.
 * Header lines go through the same native parser as maps.
 */
import { native } from '../native.js';
import { err, ok, type Result } from '../space/result.js';
import { MapsParseError, parseMapsText, type MapsEntry } from './maps.js';
import { decodeVmFlags, type VmFlags } from './vmflags.js';

/** Well-known sizes, in bytes (the file says kB). Absent keys read as 0. */
export interface SmapsSizes {
  size: bigint;
  kernelPageSize: bigint;
  mmuPageSize: bigint;
  rss: bigint;
  pss: bigint;
  pssDirty: bigint;
  sharedClean: bigint;
  sharedDirty: bigint;
  privateClean: bigint;
  privateDirty: bigint;
  referenced: bigint;
  anonymous: bigint;
  ksm: bigint;
  lazyFree: bigint;
  anonHugePages: bigint;
  shmemPmdMapped: bigint;
  filePmdMapped: bigint;
  sharedHugetlb: bigint;
  privateHugetlb: bigint;
  swap: bigint;
  swapPss: bigint;
  locked: bigint;
}

const KEY_OF: Readonly<Record<string, keyof SmapsSizes>> = {
  Size: 'size',
  KernelPageSize: 'kernelPageSize',
  MMUPageSize: 'mmuPageSize',
  Rss: 'rss',
  Pss: 'pss',
  Pss_Dirty: 'pssDirty',
  Shared_Clean: 'sharedClean',
  Shared_Dirty: 'sharedDirty',
  Private_Clean: 'privateClean',
  Private_Dirty: 'privateDirty',
  Referenced: 'referenced',
  Anonymous: 'anonymous',
  KSM: 'ksm',
  LazyFree: 'lazyFree',
  AnonHugePages: 'anonHugePages',
  ShmemPmdMapped: 'shmemPmdMapped',
  FilePmdMapped: 'filePmdMapped',
  Shared_Hugetlb: 'sharedHugetlb',
  Private_Hugetlb: 'privateHugetlb',
  Swap: 'swap',
  SwapPss: 'swapPss',
  Locked: 'locked',
};

function emptySizes(): SmapsSizes {
  const s = {} as Record<keyof SmapsSizes, bigint>;
  for (const k of Object.values(KEY_OF)) s[k] = 0n;
  return s;
}

export interface SmapsEntry extends MapsEntry {
  sizes: SmapsSizes;
  /** THPeligible (0/1), null when absent. */
  thpEligible: number | null;
  /** ProtectionKey (only printed with pkeys enabled), else null. */
  protectionKey: number | null;
  vmFlags: VmFlags;
  /** Every `Key: value` line verbatim (value without ' kB'), known keys included. */
  raw: Readonly<Record<string, string>>;
}

export interface SmapsRollup {
  start: bigint;
  end: bigint;
  sizes: SmapsSizes;
  /** Pss_Anon, Pss_File, Pss_Shmem and anything else, in bytes where the line said kB. */
  raw: Readonly<Record<string, string>>;
}

const HEADER = /^[0-9a-f]+-[0-9a-f]+ /;

function parseValue(value: string): bigint | null {
  const m = /^(\d+)(?: kB)?$/.exec(value);
  if (!m) return null;
  return value.endsWith(' kB') ? BigInt(m[1]!) * 1024n : BigInt(m[1]!);
}

interface Block {
  header: string;
  keys: [string, string][];
}

function splitBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let cur: Block | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (HEADER.test(line)) {
      cur = { header: line, keys: [] };
      blocks.push(cur);
      continue;
    }
    const colon = line.indexOf(':');
    if (!cur || colon < 0) throw new MapsParseError(blocks.length);
    cur.keys.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return blocks;
}

function fillSizes(keys: [string, string][]): {
  sizes: SmapsSizes;
  raw: Record<string, string>;
} {
  const sizes = emptySizes();
  const raw: Record<string, string> = {};
  for (const [k, v] of keys) {
    raw[k] = v;
    const f = KEY_OF[k];
    if (f !== undefined) sizes[f] = parseValue(v) ?? 0n;
  }
  return { sizes, raw };
}

/** Parses smaps text (captured or live). */
export function parseSmaps(text: string): SmapsEntry[] {
  const blocks = splitBlocks(text);
  if (blocks.length === 0) return [];
  const headers = parseMapsText(blocks.map((b) => b.header).join('\n'));
  return blocks.map((b, i) => {
    const { sizes, raw } = fillSizes(b.keys);
    const thp = raw['THPeligible'];
    const pkey = raw['ProtectionKey'];
    return {
      ...headers.entry(i),
      sizes,
      thpEligible: thp === undefined ? null : Number(thp),
      protectionKey: pkey === undefined ? null : Number(pkey),
      vmFlags: decodeVmFlags(raw['VmFlags'] ?? ''),
      raw,
    };
  });
}

/** Parses smaps_rollup text: `start-end ---p 00000000 00:00 0 [rollup]` + sums. */
export function parseSmapsRollup(text: string): SmapsRollup {
  const blocks = splitBlocks(text);
  const b = blocks[0];
  if (!b) throw new MapsParseError(1);
  const h = parseMapsText(b.header).entry(0);
  const { sizes, raw } = fillSizes(b.keys);
  return { start: h.start, end: h.end, sizes, raw };
}

/** Reads and parses /proc/PID/smaps. */
export function readSmaps(pid: number): Result<SmapsEntry[]> {
  const r = native.readProcText(`/proc/${pid}/smaps`);
  return r.ok ? ok(parseSmaps(r.value)) : err(r.errno);
}

/** Reads and parses /proc/PID/smaps_rollup. */
export function readSmapsRollup(pid: number): Result<SmapsRollup> {
  const r = native.readProcText(`/proc/${pid}/smaps_rollup`);
  return r.ok ? ok(parseSmapsRollup(r.value)) : err(r.errno);
}

/** smaps entries intersecting [start, end). */
export function smapsWindow(entries: readonly SmapsEntry[], start: bigint, end: bigint) {
  return entries.filter((e) => e.end > start && e.start < end);
}
