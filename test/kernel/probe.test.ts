/** probe() asks the kernel; these checks hold on any kernel it runs on. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { probe } from '../../src/kernel/probe.js';
import { sys } from '../../src/kernel/syscalls.js';
import { MAP, MREMAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

const p = probe();

describe('probe', () => {
  it('reports the running kernel and the x86-64 page-table sizes', () => {
    expect(p.release).toBe(fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(p.pageSize).toBe(4096);
    expect(p.pmdSize).toBe(2 * 1024 * 1024);
    expect(p.pudSize).toBe(1024 * 1024 * 1024);
    expect(p.maxMapCount).toBe(Number(fs.readFileSync('/proc/sys/vm/max_map_count', 'utf8')));
  });

  it('finds MAYMOVE, FIXED and DONTUNMAP accepted and an unknown bit refused', () => {
    const byBit = new Map(p.mremapFlags.map((f) => [f.bit, f]));
    expect(byBit.get(1)?.accepted).toBe(true);
    expect(byBit.get(2)?.accepted).toBe(true);
    expect(byBit.get(4)?.accepted).toBe(true);
    expect(byBit.get(1 << 20)).toMatchObject({ accepted: false, result: 'EINVAL' });
  });

  // The RFC bits follow what the kernel says: EINVAL on a stock kernel, accepted on a
  // kernel carrying the MREMAP_RELOCATE_ANON series. Re-ask it directly and compare.
  it('reports the RELOCATE_ANON bits exactly as the kernel answers them', () => {
    const arena = Arena.reserve({ size: 4n * PAGE_SIZE, interior: 'empty' });
    try {
      sys.mmap(
        arena.start,
        PAGE_SIZE,
        PROT.READ | PROT.WRITE,
        MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED,
      );
      for (const [bit, field] of [
        [MREMAP.RELOCATE_ANON, 'relocate'],
        [MREMAP.MUST_RELOCATE_ANON, 'mustRelocate'],
      ] as const) {
        const r = sys.mremap(arena.start, PAGE_SIZE, PAGE_SIZE, MREMAP.MAYMOVE | bit, 0n);
        const accepted = r.ok || r.code !== 'EINVAL';
        expect(p.relocateAnon[field]).toBe(accepted);
        if (!accepted) expect(r).toMatchObject({ ok: false, code: 'EINVAL' });
        else expect(r).toEqual({ ok: true, value: arena.start });
      }
    } finally {
      arena.release();
    }
  });

  it('reports THP modes as the bracketed sysfs choice', () => {
    const raw = fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
    expect(raw).toContain(`[${p.thp.enabled}]`);
  });

  it('reports the procfs ioctls consistently with the kernel version they came in', () => {
    const [maj, min] = p.release.split('.').map(Number) as [number, number];
    const atLeast = (a: number, b: number) => maj > a || (maj === a && min >= b);
    if (atLeast(6, 11)) expect(p.procmapQuery).toBe(true);
    if (atLeast(6, 7)) expect(p.pagemapScan).toBe(true);
    if (atLeast(6, 17)) expect(p.multiVmaMove).toBe(true);
    if (!atLeast(6, 7)) expect(p.pagemapScan).toBe(false);
  });

  it('sees PFNs exactly when it has CAP_SYS_ADMIN', () => {
    const capEff = /^CapEff:\s+([0-9a-f]+)/m.exec(
      fs.readFileSync('/proc/self/status', 'utf8'),
    )![1]!;
    const sysAdmin = (BigInt(`0x${capEff}`) & (1n << 21n)) !== 0n;
    expect(p.pagemapPfns).toBe(sysAdmin);
  });

  it('traits.zeroPage agrees with a plain C program (bench/c/zero_page_check.c)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-zp-'));
    try {
      const bin = path.join(dir, 'zero_page_check');
      execFileSync('cc', ['-O2', '-o', bin, path.resolve('bench/c/zero_page_check.c')]);
      const c = execFileSync(bin, { encoding: 'utf8' }).trim();
      expect(p.traits.zeroPage.value).toBe(c === '1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('traits follow the sysfs knobs and the own process', () => {
    const t = p.traits;
    expect(t.thp.enabled).toBe(p.thp.enabled);
    const uz = '/sys/kernel/mm/transparent_hugepage/use_zero_page';
    if (fs.existsSync(uz))
      expect(t.thp.useZeroPage).toBe(fs.readFileSync(uz, 'utf8').trim() === '1');
    // The huge zero page needs the zero page (mm_forbids_zeropage) and use_zero_page.
    if (t.zeroPage.value === false || t.thp.useZeroPage === false)
      expect(t.hugeZeroPage.value === true).toBe(false);
    expect(t.mapCount.max).toBe(p.maxMapCount);
    expect(t.mapCount.own).toBeGreaterThan(10);
    expect(t.pagemapScan).toBe(p.pagemapScan);
    expect(t.pfnVisible).toBe(p.pagemapPfns);
    // fault_around_bytes is a power of two of pages, at most one page table (PTRS_PER_PTE).
    const fab = t.faultAroundBytes.value!;
    expect(fab % 4096).toBe(0);
    expect(fab / 4096).toBeLessThanOrEqual(512);
    expect((fab / 4096) & (fab / 4096 - 1)).toBe(0);
    expect(t.vmflagMnemonics).toEqual(expect.arrayContaining(['rd', 'wr', 'mr', 'mw', 'me']));
  });
});
