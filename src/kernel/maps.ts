/**
 * /proc/PID/maps: one line per VMA (fs/proc/task_mmu.c:show_map_vma). The text is read and
 * parsed in C++ (native/procfs.cc) into columns; this file turns columns into entries on
 * demand and decodes the name column (get_vma_name precedence: file path, vm_ops name,
 * [heap], [stack], [anon:…]).
 */
import { native, type NativeVmaColumns } from '../native.js';
import { err, ok, type Result } from '../space/result.js';
import type { MappingKind } from '../space/address-space.js';

/** Perm bits in the columns; the same values as PROCMAP_QUERY_VMA_READABLE… (uapi fs.h). */
export const PERM = { READ: 0x1, WRITE: 0x2, EXEC: 0x4, MAYSHARE: 0x8 } as const;

/** What the name column says (get_vma_name()). */
export type NameKind =
  | 'none'
  | 'file'
  | 'heap'
  | 'stack'
  | 'vdso'
  | 'vvar'
  | 'vsyscall'
  | 'anon-named'
  | 'shmem-named'
  | 'special';

export interface MapsEntry {
  start: bigint;
  end: bigint;
  /** 'rw-p' style, exactly as maps prints it. */
  perms: string;
  read: boolean;
  write: boolean;
  exec: boolean;
  /** VM_MAYSHARE ('s'): a read-only shared file mapping shows 's' too. */
  shared: boolean;
  /** vm_pgoff << 12 for file-backed VMAs, 0 otherwise (incl. private anon). */
  offset: bigint;
  devMajor: number;
  devMinor: number;
  inode: bigint;
  /** The name column verbatim ('' when there is none). */
  name: string;
  nameKind: NameKind;
  /** File path without ' (deleted)' and with seq_path's '\012' escapes undone. */
  path: string | null;
  /** The file was unlinked (the kernel appended ' (deleted)'). */
  deleted: boolean;
  /** The NAME of [anon:NAME] / [anon_shmem:NAME]. */
  anonName: string | null;
}

const DELETED = ' (deleted)';

/** Decodes the name column. A file whose real name ends in ' (deleted)' is indistinguishable. */
export function decodeName(
  name: string,
): Pick<MapsEntry, 'nameKind' | 'path' | 'deleted' | 'anonName'> {
  if (name === '') return { nameKind: 'none', path: null, deleted: false, anonName: null };
  if (name.startsWith('/')) {
    const deleted = name.endsWith(DELETED);
    const raw = deleted ? name.slice(0, -DELETED.length) : name;
    // seq_path(…, "\n") escapes newlines in paths as \012 (fs/seq_file.c:mangle_path).
    const path = raw.includes('\\012') ? raw.replaceAll('\\012', '\n') : raw;
    return { nameKind: 'file', path, deleted, anonName: null };
  }
  const base = { path: null, deleted: false };
  if (name === '[heap]') return { ...base, nameKind: 'heap', anonName: null };
  if (name === '[stack]') return { ...base, nameKind: 'stack', anonName: null };
  if (name === '[vdso]') return { ...base, nameKind: 'vdso', anonName: null };
  if (name === '[vvar]' || name === '[vvar_vclock]') {
    return { ...base, nameKind: 'vvar', anonName: null };
  }
  if (name === '[vsyscall]') return { ...base, nameKind: 'vsyscall', anonName: null };
  if (name.startsWith('[anon:') && name.endsWith(']')) {
    return { ...base, nameKind: 'anon-named', anonName: name.slice(6, -1) };
  }
  if (name.startsWith('[anon_shmem:') && name.endsWith(']')) {
    return { ...base, nameKind: 'shmem-named', anonName: name.slice(12, -1) };
  }
  return { ...base, nameKind: 'special', anonName: null };
}

/** 'rw-p' from perm bits. */
export function permString(perms: number): string {
  return (
    (perms & PERM.READ ? 'r' : '-') +
    (perms & PERM.WRITE ? 'w' : '-') +
    (perms & PERM.EXEC ? 'x' : '-') +
    (perms & PERM.MAYSHARE ? 's' : 'p')
  );
}

/**
 * anon / shmem / file, by the object behind the mapping, not by how it is shared.
 * shmem: shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS: shmem_zero_setup names it
 * '/dev/zero (deleted)', or '[anon_shmem:NAME]' when named). A memfd is a file (its name is
 * '/memfd:NAME (deleted)'), shared or private, even though it lives on the shmem device 00:01:
 * separate memfds are separate files for merging, just like regular files. Everything
 * without an inode is anon (incl. [heap], [stack], and the vdso/vvar mappings).
 */
export function mappingKind(e: {
  shared: boolean;
  devMajor: number;
  devMinor: number;
  inode: bigint;
  name: string;
}): MappingKind {
  if (e.shared && (e.name === '/dev/zero (deleted)' || e.name.startsWith('[anon_shmem:'))) {
    return 'shmem';
  }
  if (e.inode !== 0n || e.name.startsWith('/')) return 'file';
  return 'anon';
}

/**
 * A parsed maps file (or a PROCMAP_QUERY window) as columns. Entries are built on demand so
 * a 60,000-VMA table costs one native call plus nothing per VMA until it is looked at.
 */
export class VmaTable {
  readonly count: number;
  constructor(
    readonly cols: NativeVmaColumns,
    /** Where the rows came from. */
    readonly source: 'maps' | 'procmap_query' | 'text',
  ) {
    this.count = cols.count;
  }

  start(i: number): bigint {
    return this.cols.start[i]!;
  }

  end(i: number): bigint {
    return this.cols.end[i]!;
  }

  name(i: number): string {
    return this.cols.names[this.cols.nameIdx[i]!]!;
  }

  entry(i: number): MapsEntry {
    const c = this.cols;
    if (i < 0 || i >= this.count) throw new RangeError(`no VMA #${i}`);
    const perms = c.perms[i]!;
    const name = this.name(i);
    return {
      start: c.start[i]!,
      end: c.end[i]!,
      perms: permString(perms),
      read: (perms & PERM.READ) !== 0,
      write: (perms & PERM.WRITE) !== 0,
      exec: (perms & PERM.EXEC) !== 0,
      shared: (perms & PERM.MAYSHARE) !== 0,
      offset: c.offset[i]!,
      devMajor: c.devMajor[i]!,
      devMinor: c.devMinor[i]!,
      inode: c.inode[i]!,
      name,
      ...decodeName(name),
    };
  }

  entries(): MapsEntry[] {
    const out: MapsEntry[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.entry(i));
    return out;
  }

  /** Index of the first VMA with end > addr (binary search, like find_vma()). */
  lowerBound(addr: bigint): number {
    let lo = 0;
    let hi = this.count;
    const end = this.cols.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (end[mid]! > addr) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The VMA covering addr, or undefined. */
  find(addr: bigint): MapsEntry | undefined {
    const i = this.lowerBound(addr);
    return i < this.count && this.start(i) <= addr ? this.entry(i) : undefined;
  }

  /** Entries intersecting [start, end), with their full extents. */
  window(start: bigint, end: bigint): MapsEntry[] {
    const out: MapsEntry[] = [];
    for (let i = this.lowerBound(start); i < this.count && this.start(i) < end; i++) {
      out.push(this.entry(i));
    }
    return out;
  }
}

/** Reads and parses /proc/PID/maps (one read loop + parse in C++). */
export function readMapsTable(pid: number): Result<VmaTable> {
  const r = native.mapsRead(pid);
  if (!r.ok) return err(r.errno);
  return ok(new VmaTable(r.value, 'maps'));
}

/**
 * This process's VMA count (mm->map_count, which vm.max_map_count bounds), leaving out the
 * VMAs that intersect [outside.start, outside.end): those the caller models itself.
 */
export function ownMapCount(outside?: { start: bigint; end: bigint }): number {
  const r = readMapsTable(process.pid);
  if (!r.ok) return 0;
  const t = r.value;
  let n = 0;
  for (let i = 0; i < t.count; i++) {
    // The x86-64 [vsyscall] page is the gate VMA (get_gate_vma): maps prints it, but it is
    // no VMA of the mm and map_count does not count it.
    if (t.name(i) === '[vsyscall]') continue;
    if (outside === undefined || t.end(i) <= outside.start || t.start(i) >= outside.end) n++;
  }
  return n;
}

/** Reads /proc/PID/maps as entry objects. */
export function readMaps(pid: number): Result<MapsEntry[]> {
  const r = readMapsTable(pid);
  return r.ok ? ok(r.value.entries()) : r;
}

/** Error thrown for text that is not maps format (programmer/fixture error). */
export class MapsParseError extends Error {
  constructor(readonly line: number) {
    super(`not a /proc/PID/maps line at line ${line}`);
    this.name = 'MapsParseError';
  }
}

/** Parses captured maps text with the same native parser. Throws MapsParseError on bad lines. */
export function parseMapsText(text: string | Uint8Array): VmaTable {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const cols = native.mapsParse(bytes);
  if (cols.badLine !== 0) throw new MapsParseError(cols.badLine);
  return new VmaTable(cols, 'text');
}

/**
 * Renders an entry exactly as show_map_vma prints it on 64-bit: hex fields at least 8 digits,
 * device as %02x:%02x, inode and a space, then for a name: spaces up to column 72 and one
 * more (so the name starts at column 73 unless the prefix is longer).
 */
export function formatMapsLine(e: MapsEntry): string {
  const hex = (v: bigint | number, w: number) => v.toString(16).padStart(w, '0');
  const prefix =
    `${hex(e.start, 8)}-${hex(e.end, 8)} ${e.perms} ${hex(e.offset, 8)} ` +
    `${hex(e.devMajor, 2)}:${hex(e.devMinor, 2)} ${e.inode} `;
  if (e.name === '') return prefix;
  // seq_pad(m, ' '): pad to the width set at line start (72), then always one more space.
  return `${prefix.padEnd(72, ' ')} ${e.name}`;
}
