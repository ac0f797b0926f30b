/**
 * `mremap-lab maps`: a pmap-like view of /proc/PID/maps (and smaps with --smaps) that marks
 * adjacent VMAs which look mergeable but are not, with the visible reason when there is one
 * (mm/vma.c:is_mergeable_vma — flags, file, pgoff; anon_vma, uffd ctx and policy are not
 * visible in procfs).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { colors as pc, tableStyle } from './color.js';
import { mappingKind, readMapsTable, type MapsEntry } from '../kernel/maps.js';
import { queryWindow } from '../kernel/procmap-query.js';
import { readSmaps, type SmapsEntry } from '../kernel/smaps.js';
import { vmFlagsDiff } from '../kernel/vmflags.js';
import { Errno } from '../space/errno.js';
import type { Err } from '../space/result.js';

// ── shared CLI helpers (also used by cli/pagemap.ts) ─────────────────────────────────

export interface Range {
  start: bigint;
  end: bigint;
}

const HEX = /^(?:0x)?([0-9a-f]+)$/i;

/** Parses 'START-END' (hex, optional 0x). Returns an error message for exit code 2. */
export function parseRange(text: string): Range | string {
  const how = 'give --range START-END in hex, e.g. --range 7f0000000000-7f0000200000';
  const parts = text.split('-');
  if (parts.length !== 2) return `bad --range '${text}': expected exactly one '-'; ${how}`;
  const [a, b] = parts.map((p) => HEX.exec(p.trim()));
  if (!a) return `bad --range '${text}': start '${parts[0]}' is not a hex address; ${how}`;
  if (!b) return `bad --range '${text}': end '${parts[1]}' is not a hex address; ${how}`;
  const start = BigInt(`0x${a[1]}`);
  const end = BigInt(`0x${b[1]}`);
  if (end > 0xffffffffffffffffn) {
    return `bad --range '${text}': end does not fit in 64 bits; ${how}`;
  }
  if (start >= end) {
    return `bad --range '${text}': start 0x${start.toString(16)} is not below end 0x${end.toString(16)}; ${how}`;
  }
  return { start, end };
}

/**
 * Parses --pid; undefined means this process. Returns an error message for exit code 2: a
 * pid with no process is the user's input too, found before any work.
 */
export function parsePid(text: string | undefined): number | string {
  if (text === undefined) return process.pid;
  if (!/^[1-9]\d*$/.test(text) || Number(text) > 4194304) {
    return `bad --pid '${text}': expected a process id between 1 and 4194304`;
  }
  if (!fs.existsSync(`/proc/${text}`))
    return `bad --pid ${text}: no such process (/proc/${text} does not exist); see ps or pgrep for a live one`;
  return Number(text);
}

/** A clear message for a procfs failure on pid (exit code 1). */
export function procError(pid: number, file: string, e: Err): string {
  if (e.errno === Errno.ENOENT || e.errno === Errno.ESRCH) {
    return `no process with pid ${pid} (/proc/${pid}/${file}: ${e.code})`;
  }
  if (e.errno === Errno.EACCES || e.errno === Errno.EPERM) {
    return (
      `not allowed to read /proc/${pid}/${file} (${e.code}): run as the process owner or ` +
      `root (ptrace access mode PTRACE_MODE_READ is required)`
    );
  }
  return `cannot read /proc/${pid}/${file}: ${e.code}`;
}

export function hex(v: bigint): string {
  return v.toString(16).padStart(12, '0');
}

export function kib(bytes: bigint): string {
  return `${bytes / 1024n}K`;
}

/** JSON.stringify replacer: bigints as 0x-hex strings. */
export function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : v;
}

// ── merge notes ────────────────────────────────────────────────────────────────────

const SPECIAL = new Set(['vdso', 'vvar', 'vsyscall']);

/**
 * Why prev and next (adjacent, both looking alike) are two VMAs, as far as procfs shows it;
 * null when they do not look mergeable in the first place.
 */
export function notMergedReason(
  prev: MapsEntry,
  next: MapsEntry,
  prevFlags?: readonly string[],
  nextFlags?: readonly string[],
): string | null {
  if (prev.end !== next.start || prev.perms !== next.perms) return null;
  if (SPECIAL.has(prev.nameKind) || SPECIAL.has(next.nameKind)) return null;
  const kind = mappingKind(prev);
  if (kind !== mappingKind(next)) return null;
  if (prevFlags && nextFlags) {
    const d = vmFlagsDiff(prevFlags, nextFlags);
    if (d.onlyA.length || d.onlyB.length) {
      const a = d.onlyA.length ? d.onlyA.join(' ') : '-';
      const b = d.onlyB.length ? d.onlyB.join(' ') : '-';
      return `different VmFlags (${a} | ${b})`;
    }
  }
  if (kind === 'file' || kind === 'shmem') {
    if (prev.devMajor !== next.devMajor || prev.devMinor !== next.devMinor) {
      return 'different files (device)';
    }
    if (prev.inode !== next.inode || prev.name !== next.name) {
      return kind === 'shmem'
        ? 'different shmem objects (each MAP_SHARED|MAP_ANONYMOUS mmap has its own)'
        : 'different files';
    }
    if (prev.offset + (prev.end - prev.start) !== next.offset) {
      return 'file offsets not continuous';
    }
    return 'hidden: separate opens of the file (vm_file differs), uffd ctx or policy';
  }
  const hiddenFlags = prevFlags ? '' : ', or VmFlags (use --smaps)';
  return `hidden: anon_vma/pgoff (not shown for anonymous memory), uffd ctx, policy${hiddenFlags}`;
}

// ── the command ────────────────────────────────────────────────────────────────────

interface MapsOptions {
  pid?: string;
  smaps?: boolean;
  range?: string;
  json?: boolean;
}

interface Row {
  entry: MapsEntry;
  smaps?: SmapsEntry;
  notMerged: string | null;
}

function rowsFor(
  pid: number,
  opts: MapsOptions,
  range: Range | null,
): { rows: Row[] } | { error: string } {
  let entries: MapsEntry[];
  let smaps: SmapsEntry[] | undefined;
  if (opts.smaps) {
    const s = readSmaps(pid);
    if (!s.ok) return { error: procError(pid, 'smaps', s) };
    smaps = s.value;
    entries = s.value;
  } else if (range) {
    const w = queryWindow(pid, range.start, range.end);
    if (!w.ok) return { error: procError(pid, 'maps', w) };
    entries = w.value.entries();
  } else {
    const t = readMapsTable(pid);
    if (!t.ok) return { error: procError(pid, 'maps', t) };
    entries = t.value.entries();
  }
  const all = entries.map((entry, i) => ({ entry, smaps: smaps?.[i], notMerged: null }));
  const rows: Row[] = all.map((r, i) => {
    const prev = all[i - 1];
    const notMerged = prev
      ? notMergedReason(prev.entry, r.entry, prev.smaps?.vmFlags.codes, r.smaps?.vmFlags.codes)
      : null;
    return { ...r, notMerged };
  });
  if (!range) return { rows };
  return { rows: rows.filter((r) => r.entry.end > range.start && r.entry.start < range.end) };
}

function table(rows: Row[], withSmaps: boolean): string {
  const t = new Table({
    head: ['address', 'size', 'perms', 'flags', 'RSS', 'THP', 'name'],
    style: tableStyle(),
  });
  for (const r of rows) {
    const e = r.entry;
    const s = r.smaps;
    const name = e.name === '' ? pc.dim('[anon]') : e.name;
    t.push([
      `${hex(e.start)}-${hex(e.end)}`,
      { hAlign: 'right', content: kib(e.end - e.start) },
      e.perms,
      s ? s.vmFlags.codes.join(' ') : pc.dim('-'),
      { hAlign: 'right', content: s ? kib(s.sizes.rss) : pc.dim('-') },
      { hAlign: 'right', content: s ? kib(s.sizes.anonHugePages) : pc.dim('-') },
      r.notMerged ? `${name} ${pc.yellow(`⟂ not merged with previous: ${r.notMerged}`)}` : name,
    ]);
  }
  const total = rows.reduce((a, r) => a + (r.entry.end - r.entry.start), 0n);
  const foot = `${rows.length} VMAs, ${kib(total)}${withSmaps ? '' : ' (use --smaps for flags, RSS and THP)'}`;
  return `${t.toString()}\n${foot}`;
}

export function registerMaps(program: Command): void {
  program
    .command('maps')
    .description('show the VMAs of a process (pmap-like), marking neighbours that did not merge')
    .option('--pid <pid>', 'process to inspect (default: this process)')
    .option('--smaps', 'read /proc/PID/smaps for VmFlags, RSS and THP (slower)')
    .option('--range <start-end>', 'only VMAs intersecting this hex address range')
    .option('--json', 'print JSON (addresses as 0x-hex strings)')
    .action((opts: MapsOptions, cmd: Command) => {
      const pid = parsePid(opts.pid);
      if (typeof pid === 'string') cmd.error(pid, { exitCode: 2, code: 'mrl.badPid' });
      let range: Range | null = null;
      if (opts.range !== undefined) {
        const r = parseRange(opts.range);
        if (typeof r === 'string') cmd.error(r, { exitCode: 2, code: 'mrl.badRange' });
        range = r;
      }
      const res = rowsFor(pid as number, opts, range);
      if ('error' in res) cmd.error(res.error, { exitCode: 1, code: 'mrl.procfs' });
      const { rows } = res as { rows: Row[] };
      if (opts.json) {
        const out = rows.map((r) => ({
          ...r.entry,
          kind: mappingKind(r.entry),
          ...(r.smaps
            ? {
                vmFlags: r.smaps.vmFlags.codes,
                rss: r.smaps.sizes.rss,
                anonHugePages: r.smaps.sizes.anonHugePages,
                sizes: r.smaps.sizes,
              }
            : {}),
          notMergedWithPrevious: r.notMerged,
        }));
        process.stdout.write(`${JSON.stringify(out, bigintReplacer, 2)}\n`);
        return;
      }
      process.stdout.write(`${table(rows, opts.smaps === true)}\n`);
    });
}
