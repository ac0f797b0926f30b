/**
 * `maps` and `pagemap` commands, run in-process through commander (src/cli/main.ts, which
 * registers them for the real binary, belongs to the CLI owner).
 */
import { Command, CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { notMergedReason, parseRange, registerMaps } from '../../src/cli/maps.js';
import { registerPagemap } from '../../src/cli/pagemap.js';
import { parseMapsText } from '../../src/kernel/maps.js';
import { probe } from '../../src/kernel/probe.js';
import { sys } from '../../src/kernel/syscalls.js';
import { MAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

function run(...args: string[]): Run {
  const program = new Command().name('mremap-lab').exitOverride();
  let err = '';
  program.configureOutput({ writeErr: (s) => (err += s), writeOut: (s) => (err += s) });
  registerMaps(program);
  registerPagemap(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  let code = 0;
  try {
    program.parse(['node', 'mremap-lab', ...args]);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode;
  } finally {
    spy.mockRestore();
  }
  return { code, out, err };
}

/** The pagemap command reports zero pages from kpageflags: it follows what probe measured. */
const ZERO = probe().traits.zeroPage.value === true;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** [guard][A rw][B rw][guard]: A faulted, B faulted separately → two anon_vmas, 2 VMAs. */
function twoUnmergedVmas(): bigint {
  const g = sys.mmap(0n, 6n * PAGE_SIZE, PROT.NONE, MAP.PRIVATE | MAP.ANONYMOUS);
  if (!g.ok) throw new Error(g.code);
  cleanups.push(() => sys.munmap(g.value, 6n * PAGE_SIZE));
  const a = g.value + PAGE_SIZE;
  const RW = PROT.READ | PROT.WRITE;
  const FIX = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;
  // B first, faulted while alone (no neighbour to share an anon_vma with) …
  expect(sys.mmap(a + 2n * PAGE_SIZE, 2n * PAGE_SIZE, RW, FIX).ok).toBe(true);
  expect(sys.writeTag(0, a + 2n * PAGE_SIZE, 2n).ok).toBe(true);
  // … then A with MAP_NORESERVE: VM_NORESERVE differs, so it cannot merge with B.
  expect(sys.mmap(a, 2n * PAGE_SIZE, RW, FIX | MAP.NORESERVE).ok).toBe(true);
  expect(sys.writeTag(0, a, 1n).ok).toBe(true);
  return a;
}

describe('maps command', () => {
  it('prints a table with the VMAs of a range and marks neighbours that did not merge', () => {
    const a = twoUnmergedVmas();
    const range = `${a.toString(16)}-${(a + 4n * PAGE_SIZE).toString(16)}`;
    const r = run('maps', '--range', range, '--smaps');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${a.toString(16).padStart(12, '0')}-`);
    expect(r.out).toContain('different VmFlags (nr | ac)');
    expect(r.out).toMatch(/2 VMAs, 16K/);
  });

  it('--json gives entries with VmFlags and the merge note', () => {
    const a = twoUnmergedVmas();
    const range = `0x${a.toString(16)}-0x${(a + 4n * PAGE_SIZE).toString(16)}`;
    const r = run('maps', '--range', range, '--smaps', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      start: string;
      vmFlags: string[];
      kind: string;
      notMergedWithPrevious: string | null;
    }[];
    expect(j.map((e) => [e.start, e.kind, e.vmFlags, e.notMergedWithPrevious])).toEqual([
      [`0x${a.toString(16)}`, 'anon', ['rd', 'wr', 'mr', 'mw', 'me', 'nr'], null],
      [
        `0x${(a + 2n * PAGE_SIZE).toString(16)}`,
        'anon',
        ['rd', 'wr', 'mr', 'mw', 'me', 'ac'],
        'different VmFlags (nr | ac)',
      ],
    ]);
  });

  it('a missing pid, bad ranges and bad pids are input errors: exit 2 with a message', () => {
    const gone = run('maps', '--pid', '4194304');
    expect(gone.code).toBe(2);
    expect(gone.err).toContain('bad --pid 4194304: no such process');
    const bad = run('maps', '--range', 'zz-10');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("start 'zz' is not a hex address");
    const rev = run('maps', '--range', '2000-1000');
    expect(rev.code).toBe(2);
    expect(rev.err).toContain('is not below end');
    expect(run('maps', '--pid', 'abc').code).toBe(2);
  });

  it('notMergedReason names the visible reason', () => {
    const t = parseMapsText(
      [
        '7f0000000000-7f0000001000 r--p 00000000 fe:00 5                          /f',
        '7f0000001000-7f0000002000 r--p 00002000 fe:00 5                          /f',
        '7f0000002000-7f0000003000 r--p 00003000 fe:00 6                          /g',
        '7f0000003000-7f0000004000 rw-s 00000000 00:01 7                          /dev/zero (deleted)',
        '7f0000004000-7f0000005000 rw-s 00000000 00:01 8                          /dev/zero (deleted)',
        '7f0000005000-7f0000006000 rw-p 00000000 00:00 0 ',
        '7f0000006000-7f0000007000 rw-p 00000000 00:00 0 ',
      ].join('\n'),
    ).entries();
    const reasons = t.slice(1).map((e, i) => notMergedReason(t[i]!, e));
    expect(reasons).toEqual([
      'file offsets not continuous',
      'different files',
      null,
      'different shmem objects (each MAP_SHARED|MAP_ANONYMOUS mmap has its own)',
      null,
      'hidden: anon_vma/pgoff (not shown for anonymous memory), uffd ctx, policy, or VmFlags (use --smaps)',
    ]);
    expect(parseRange('0x1000-0x3000')).toEqual({ start: 0x1000n, end: 0x3000n });
  });
});

describe('pagemap command', () => {
  it('prints runs, not pages', () => {
    const g = sys.mmap(0n, 10n * PAGE_SIZE, PROT.NONE, MAP.PRIVATE | MAP.ANONYMOUS);
    if (!g.ok) throw new Error(g.code);
    cleanups.push(() => sys.munmap(g.value, 10n * PAGE_SIZE));
    const a = g.value + PAGE_SIZE;
    const m = sys.mmap(
      a,
      8n * PAGE_SIZE,
      PROT.READ | PROT.WRITE,
      MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED,
    );
    expect(m.ok).toBe(true);
    for (const i of [2n, 3n]) expect(sys.writeTag(0, a + i * PAGE_SIZE, i).ok).toBe(true);
    expect(sys.readTag(0, a + 6n * PAGE_SIZE).ok).toBe(true);
    const range = `${(a - PAGE_SIZE).toString(16)}-${(a + 8n * PAGE_SIZE).toString(16)}`;
    const r = run('pagemap', '--range', range, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      runs: { pages: number; vma: string | null; state: string[]; zero: boolean }[];
    };
    const shape = j.runs.map((x) => [x.pages, x.vma, x.state.join(' '), x.zero]);
    // Pages 2 and 3 are separate runs only if their PFNs are not consecutive.
    const merged = shape.length === 6;
    expect(shape).toEqual([
      [1, '---p', '', false],
      [2, 'rw-p', '', false],
      ...(merged
        ? [[2, 'rw-p', 'present exclusive', false]]
        : [
            [1, 'rw-p', 'present exclusive', false],
            [1, 'rw-p', 'present exclusive', false],
          ]),
      [2, 'rw-p', '', false],
      // The read fault: the zero page where the kernel uses it, else a fresh exclusive page.
      ZERO ? [1, 'rw-p', 'present', true] : [1, 'rw-p', 'present exclusive', false],
      [1, 'rw-p', '', false],
    ]);
    const text = run('pagemap', '--range', range);
    expect(text.code).toBe(0);
    expect(text.out.includes('zero-page')).toBe(ZERO);
    expect(text.out).toMatch(/9 pages, 3 present/);
  });

  it('requires --range and rejects huge ones', () => {
    // A missing mandatory option is a commander usage error (main.ts maps it to exit 2).
    expect(run('pagemap').err).toContain("required option '--range <start-end>' not specified");
    const huge = run('pagemap', '--range', '0-7fffffffffff');
    expect(huge.code).toBe(2);
    expect(huge.err).toContain('give a smaller range');
  });
});
