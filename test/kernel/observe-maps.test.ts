/**
 * /proc/PID/maps parsing (fs/proc/task_mmu.c:show_map_vma) and PROCMAP_QUERY
 * (do_procmap_query) on captured text and on live processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MapsParseError,
  formatMapsLine,
  mappingKind,
  parseMapsText,
  readMaps,
  readMapsTable,
  type MapsEntry,
} from '../../src/kernel/maps.js';
import { PROCMAP_QUERY, queryVma, queryWindow } from '../../src/kernel/procmap-query.js';
import { Errno } from '../../src/space/errno.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (name: string) => readFileSync(path.join(fixtures, name), 'utf8');

function byName(entries: MapsEntry[], name: string): MapsEntry {
  const e = entries.find((x) => x.name === name);
  if (!e) throw new Error(`no VMA named ${name}`);
  return e;
}

describe('maps parser on captured text', () => {
  const text = fixture('maps-python-odd-names.txt');
  const entries = parseMapsText(text).entries();

  it('parses every line and renders each back byte for byte', () => {
    const lines = text.split('\n').filter((l) => l !== '');
    expect(entries).toHaveLength(lines.length);
    expect(entries.map(formatMapsLine)).toEqual(lines);
  });

  it('keeps paths with spaces whole', () => {
    const e = byName(entries, '/tmp/mrl obs fixtures/file with spaces.bin');
    expect(e).toMatchObject({
      start: 0x7f256c0c8000n,
      end: 0x7f256c0ca000n,
      perms: 'rw-s',
      shared: true,
      offset: 0n,
      devMajor: 0xfe,
      devMinor: 0,
      inode: 2146379n,
      nameKind: 'file',
      path: '/tmp/mrl obs fixtures/file with spaces.bin',
      deleted: false,
    });
    expect(mappingKind(e)).toBe('file');
  });

  it('splits " (deleted)" off unlinked files', () => {
    const e = byName(entries, '/tmp/mrl obs fixtures/gone.bin (deleted)');
    expect(e.path).toBe('/tmp/mrl obs fixtures/gone.bin');
    expect(e.deleted).toBe(true);
    expect(e.perms).toBe('rw-p');
  });

  it('classifies MAP_SHARED|MAP_ANONYMOUS as shmem (/dev/zero (deleted), dev 00:01)', () => {
    const e = byName(entries, '/dev/zero (deleted)');
    expect([e.devMajor, e.devMinor, e.inode, e.end - e.start]).toEqual([0, 1, 1026n, 3n * 4096n]);
    expect(mappingKind(e)).toBe('shmem');
  });

  it('names the special mappings', () => {
    expect(byName(entries, '[heap]').nameKind).toBe('heap');
    expect(byName(entries, '[stack]').nameKind).toBe('stack');
    expect(byName(entries, '[vdso]').nameKind).toBe('vdso');
    expect(byName(entries, '[vvar]').nameKind).toBe('vvar');
    expect(byName(entries, '[vvar_vclock]').nameKind).toBe('vvar');
    const g = byName(entries, '[vsyscall]');
    expect([g.start, g.end, g.perms]).toEqual([0xffffffffff600000n, 0xffffffffff601000n, '--xp']);
    expect(mappingKind(byName(entries, '[heap]'))).toBe('anon');
  });

  it('handles 5-level widths, anon names, escaped newlines and u64 inodes', () => {
    const syn = fixture('maps-synthetic-5level.txt');
    const e = parseMapsText(syn).entries();
    expect(e.map(formatMapsLine)).toEqual(syn.split('\n').filter((l) => l !== ''));
    expect(e[1]).toMatchObject({ nameKind: 'anon-named', anonName: 'my buffer' });
    expect(e[2]).toMatchObject({ nameKind: 'shmem-named', anonName: 'ring', offset: 0x2000n });
    expect(mappingKind(e[2]!)).toBe('shmem');
    expect(e[3]).toMatchObject({
      devMajor: 0x103,
      devMinor: 2,
      path: '/tmp/new\nline',
      deleted: true,
    });
    expect(e[4]).toMatchObject({ name: '', nameKind: 'none', perms: '---p' });
    expect([e[5]!.start, e[5]!.end]).toEqual([0xff7f0000000000n, 0xff7f0000200000n]);
    expect(e[7]).toMatchObject({
      inode: 18446744073709551615n,
      offset: 0xfffffffff000n,
      name: '/a b  c/d',
      perms: 'r-xs',
    });
  });

  it('rejects text that is not maps format with the line number', () => {
    expect(() => parseMapsText('00400000-00401000 r--p 0 00:00 0 \nhello\n')).toThrow(
      MapsParseError,
    );
    try {
      parseMapsText('00400000-00401000 r--p 0 00:00 0 \nhello\n');
    } catch (e) {
      expect((e as MapsParseError).line).toBe(2);
    }
  });

  // The parser stops each field at the line's '\n' instead of checking bounds: a line cut
  // anywhere must be refused, never read into the next line or past the text.
  it('refuses a line cut at any byte, and reads a last line without its newline', () => {
    const full = '00400000-00401000 r-xp 00001000 fe:01 1234                     /bin/x';
    for (let cut = 1; cut < full.indexOf(' 1234') + 1; cut++) {
      const text = `${full.slice(0, cut)}\n${full}\n`;
      expect(() => parseMapsText(text), `cut at ${cut}`).toThrow(MapsParseError);
    }
    const t = parseMapsText(`${full}\n${full.replace('/bin/x', '/bin/y')}\n${full}`);
    expect(t.count).toBe(3);
    expect([t.name(0), t.name(1), t.name(2)]).toEqual(['/bin/x', '/bin/y', '/bin/x']);
    expect(t.cols.names).toEqual(['', '/bin/x', '/bin/y']);
    expect(t.entry(2)).toMatchObject({ perms: 'r-xp', offset: 0x1000n, inode: 1234n });
  });
});

describe('maps of live processes', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    // Wait until exec and the dynamic loader are done: maps names sleep and libc, and two
    // reads 20 ms apart are identical (sleep maps nothing more while sleeping).
    let prev = '';
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const cur = readFileSync(`/proc/${child.pid!}/maps`, 'utf8');
      if (cur === prev && cur.includes('/sleep') && cur.includes('libc')) break;
      prev = cur;
    }
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('reads a child exactly as the kernel prints it', () => {
    const pid = child.pid!;
    const text = readFileSync(`/proc/${pid}/maps`, 'utf8');
    const r = readMaps(pid);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map(formatMapsLine)).toEqual(text.split('\n').filter((l) => l !== ''));
    expect(r.value.some((e) => e.path === '/usr/bin/sleep' || e.path === '/bin/sleep')).toBe(true);
  });

  it('PROCMAP_QUERY agrees with the text for the child, field by field', () => {
    const pid = child.pid!;
    const text = readMapsTable(pid);
    const q = queryWindow(pid, 0n, 1n << 63n);
    expect(text.ok && q.ok).toBe(true);
    if (!text.ok || !q.ok) return;
    expect(q.value.source).toBe('procmap_query');
    // The gate VMA ([vsyscall]) is in the text but never returned by the ioctl.
    const fromText = text.value.entries().filter((e) => e.name !== '[vsyscall]');
    expect(q.value.entries()).toEqual(fromText);
  });

  it('PROCMAP_QUERY agrees with the text for this process (retried while V8 maps memory)', () => {
    let last: [MapsEntry[], MapsEntry[]] = [[], []];
    for (let attempt = 0; attempt < 10; attempt++) {
      const q = queryWindow(process.pid, 0n, 1n << 63n);
      const t = readMaps(process.pid);
      if (!q.ok || !t.ok) throw new Error('read failed');
      last = [q.value.entries(), t.value.filter((e) => e.name !== '[vsyscall]')];
      if (
        JSON.stringify(last[0], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)) ===
        JSON.stringify(last[1], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v))
      ) {
        break;
      }
    }
    expect(last[0]).toEqual(last[1]);
    expect(last[0].length).toBeGreaterThan(10);
  });

  it('a window returns intersecting VMAs with full extents; text fallback agrees', () => {
    const t = readMapsTable(process.pid);
    if (!t.ok) throw new Error('read failed');
    const heap = t.value.entries().find((e) => e.name === '[heap]')!;
    const mid = heap.start + ((heap.end - heap.start) / 2n / 4096n) * 4096n;
    const w = queryWindow(process.pid, mid, mid + 4096n);
    const f = queryWindow(process.pid, mid, mid + 4096n, { forceText: true });
    expect(w.ok && f.ok).toBe(true);
    if (!w.ok || !f.ok) return;
    expect(w.value.entries()).toEqual([heap]);
    expect(f.value.source).toBe('maps');
    expect(f.value.entries()).toEqual([heap]);
  });

  it('queryVma: covering VMA, ENOENT in a hole, next VMA with COVERING_OR_NEXT', () => {
    const t = readMapsTable(process.pid);
    if (!t.ok) throw new Error('read failed');
    const heap = t.value.entries().find((e) => e.name === '[heap]')!;
    const cover = queryVma(process.pid, heap.start, 0);
    expect(cover.ok && [cover.value.start, cover.value.end, cover.value.name]).toEqual([
      heap.start,
      heap.end,
      '[heap]',
    ]);
    // Page 0 is never mapped (mmap_min_addr), so only the next VMA can answer.
    const hole = queryVma(process.pid, 0n, 0);
    expect(hole.ok ? 'ok' : hole.code).toBe('ENOENT');
    const next = queryVma(process.pid, 0n, PROCMAP_QUERY.COVERING_OR_NEXT_VMA);
    expect(next.ok && next.value.start).toBe(t.value.start(0));
    // Unknown query flags → EINVAL.
    const bad = queryVma(process.pid, 0n, 0x40);
    expect(bad.ok ? 'ok' : bad.code).toBe('EINVAL');
  });

  it('a pid that does not exist is ENOENT, not an exception', () => {
    // pid_max is at most 4194304 (PID_MAX_LIMIT).
    const r = readMaps(4194305);
    expect(r.ok ? 'ok' : r.errno).toBe(Errno.ENOENT);
    const q = queryWindow(4194305, 0n, 4096n);
    expect(q.ok ? 'ok' : q.code).toBe('ENOENT');
  });
});
