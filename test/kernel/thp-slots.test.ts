/**
 * THP per PMD slot without PAGEMAP_SCAN (thp-slots.ts), checked against PAGEMAP_SCAN's
 * PAGE_IS_HUGE on kernels that have both: the method 6.1 has to use must give the same
 * answer as the one 6.7+ gives, slot by slot.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { PAGE_IS, scanPagemap } from '../../src/kernel/pagemap-scan.js';
import { withPagemapFd } from '../../src/kernel/pagemap.js';
import { probe } from '../../src/kernel/probe.js';
import { queryWindow } from '../../src/kernel/procmap-query.js';
import { readSmaps } from '../../src/kernel/smaps.js';
import { sys } from '../../src/kernel/syscalls.js';
import { thpSlotsWithoutScan } from '../../src/kernel/thp-slots.js';
import { ok } from '../../src/space/result.js';
import { trySnapshot } from '../../src/kernel/snapshot.js';
import { MADV, MAP, PAGE_SIZE, PMD_SIZE, PROT } from '../../src/space/constants.js';

const P = probe();
const THP_ON = P.thp.enabled === 'always' || P.thp.enabled === 'madvise';
const me = process.pid;
const arena = Arena.reserve({ size: 8n * PMD_SIZE, align: PMD_SIZE, interior: 'empty' });
afterAll(() => arena.release());

function slotsByScan(): bigint[] {
  const r = scanPagemap(me, arena.start, arena.end, {
    anyof: PAGE_IS.HUGE,
    returnMask: PAGE_IS.HUGE,
  });
  if (!r.ok) throw new Error(`PAGEMAP_SCAN: ${r.code}`);
  const out: bigint[] = [];
  for (const x of r.value) for (let s = x.start; s < x.end; s += PMD_SIZE) out.push(s);
  return out;
}

function slotsWithoutScan() {
  const w = queryWindow(me, arena.start, arena.end, { names: true });
  if (!w.ok) throw new Error(w.code);
  const t = w.value;
  const vmas = Array.from({ length: t.count }, (_, i) => ({
    start: t.cols.start[i]!,
    end: t.cols.end[i]!,
    prot: 'rw-',
    shared: false,
    kind: 'anon' as const,
    offset: 0n,
  }));
  const sm = readSmaps(me);
  if (!sm.ok) throw new Error(sm.code);
  const r = withPagemapFd(me, (fd) => ok(thpSlotsWithoutScan(fd, vmas, () => sm.value)));
  if (!r.ok) throw new Error(r.code);
  return r.value;
}

const slot = (i: number) => arena.start + BigInt(i) * PMD_SIZE;
const RW = PROT.READ | PROT.WRITE;
const FIX = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;

describe.skipIf(!(THP_ON && P.pagemapScan))(
  `THP slots without PAGEMAP_SCAN${THP_ON && P.pagemapScan ? '' : ' (skipped: needs THP enabled and PAGEMAP_SCAN to compare with)'}`,
  () => {
    it('one VMA with a THP, a huge zero PMD and small pages: the same slots as PAGEMAP_SCAN', () => {
      arena.reset('empty');
      expect(sys.mmap(arena.start, 3n * PMD_SIZE, RW, FIX).ok).toBe(true);
      expect(sys.madvise(arena.start, 3n * PMD_SIZE, MADV.HUGEPAGE).ok).toBe(true);
      // slot 0: a THP by a write fault; slot 1: a few small pages (NOHUGEPAGE, then back).
      expect(sys.writeTag(0, slot(0), 1n).ok).toBe(true);
      expect(sys.madvise(slot(1), PMD_SIZE, MADV.NOHUGEPAGE).ok).toBe(true);
      for (const i of [0n, 7n, 300n])
        expect(sys.writeTag(0, slot(1) + i * PAGE_SIZE, i).ok).toBe(true);
      expect(sys.madvise(slot(1), PMD_SIZE, MADV.HUGEPAGE).ok).toBe(true);
      // slot 2: read fault — the huge zero PMD where the kernel has it, else a THP.
      expect(sys.readTag(0, slot(2)).ok).toBe(true);
      const scan = slotsByScan();
      const mine = slotsWithoutScan();
      expect(mine.ambiguous).toEqual([]);
      expect(mine.method).toBe(P.pagemapPfns && P.kpageflags ? 'kpageflags+smaps' : 'smaps');
      expect(scan).toContain(slot(0));
      expect(scan).not.toContain(slot(1));
      // Without kpageflags the huge zero page is invisible to smaps (smaps_pmd_entry skips it).
      const expected =
        mine.method === 'smaps' && P.traits.hugeZeroPage.value === true
          ? scan.filter((x) => x !== slot(2))
          : scan;
      expect(mine.slots).toEqual(expected);
      const snap = trySnapshot(me, arena.start, arena.end);
      if (!snap.ok) throw new Error(snap.code);
      expect(snap.value.thpInfo).toBe('pagemap_scan');
    });

    it('a THP beside a PTE-mapped folio in one VMA is ambiguous, and neither slot is claimed', () => {
      arena.reset('empty');
      expect(sys.mmap(arena.start, 2n * PMD_SIZE, RW, FIX).ok).toBe(true);
      expect(sys.madvise(arena.start, 2n * PMD_SIZE, MADV.HUGEPAGE).ok).toBe(true);
      expect(sys.writeTag(0, slot(0), 1n).ok).toBe(true);
      // slot 1: mprotect of half a THP splits its PMD (__split_vma → vma_adjust_trans_huge);
      // mprotect back merges the VMA again, leaving the large folio PTE-mapped.
      expect(sys.writeTag(0, slot(1), 2n).ok).toBe(true);
      expect(sys.mprotect(slot(1), PMD_SIZE / 2n, PROT.READ).ok).toBe(true);
      expect(sys.mprotect(slot(1), PMD_SIZE / 2n, RW).ok).toBe(true);
      expect(slotsByScan()).toEqual([slot(0)]);
      const mine = slotsWithoutScan();
      // Both slots are fully present folios; AnonHugePages counts one: which is not told.
      expect(mine.slots).toEqual([]);
      expect(mine.ambiguous).toEqual([slot(0), slot(1)]);
    });
  },
);
