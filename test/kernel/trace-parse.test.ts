/**
 * Parsing real trace text captured in Debian guests (`explain --verify --json`, the
 * verify.traceText field) for Linus's example 1: old 0x1fff000, new 0xfff000, len
 * 0x201000, rebuilt 1 GiB-aligned at another base.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTraceText, walksOf } from '../../src/kernel/trace/parse.js';
import { deriveFromCallees } from '../../src/scenario/plan-verdict.js';
import { unshift } from '../../src/scenario/verify-plan.js';

const fixture = (name: string): string =>
  fs.readFileSync(new URL(`../fixtures/trace/${name}`, import.meta.url), 'utf8');

describe('parseTraceText', () => {
  it('reads pid, event and fields of each line, headers skipped', () => {
    const ev = parseTraceText(fixture('6.1-example1.txt'));
    expect(ev.map((e) => e.event)).toEqual([
      'move_page_tables',
      'flush_tlb_batched_pending',
      'flush_tlb_mm_range',
      'flush_tlb_mm_range',
      'move_page_tables__ret',
      'flush_tlb_batched_pending',
      'flush_tlb_mm_range',
    ]);
    expect(new Set(ev.map((e) => e.pid))).toEqual(new Set([137]));
    expect(ev[0]!.fields).toEqual({
      old: 0x13e841fff000n,
      new: 0x13e840fff000n,
      len: 0x201000n,
    });
    expect(ev[6]!.fields).toEqual({ start: 0x13e841e00000n, end: 0x13e841e01000n, stride: 21n });
  });

  it('keeps only events inside the walk, and only of the pid asked for', () => {
    const ev = parseTraceText(fixture('6.1-example1.txt'));
    const [w, ...rest] = walksOf(ev, 137);
    expect(rest).toEqual([]);
    expect(w!.old).toBe(0x13e841fff000n);
    expect(w!.moved).toBe(0x201000n);
    expect(w!.callees).toEqual([
      { kind: 'batch' },
      { kind: 'flush', start: 0x13e841fff000n, end: 0x13e842000000n, stride: 12n },
      { kind: 'flush', start: 0x13e842000000n, end: 0x13e842200000n, stride: 12n },
    ]);
    expect(walksOf(ev, 138)).toEqual([]);
  });

  it('6.1 moved one PTE, then one PMD entry, from old_addr on (no realignment)', () => {
    const [w] = walksOf(parseTraceText(fixture('6.1-example1.txt')));
    expect(deriveFromCallees(w!.callees)).toEqual({
      pteExtents: 1,
      ptePages: 1,
      pmd: 1,
      pud: 0,
      starts: [0x13e841fff000n, 0x13e842000000n],
      odd: [],
    });
  });

  it('a walk traced with symbols only has no callee events', () => {
    const [w] = walksOf(parseTraceText(fixture('6.12-example1-symbols-only.txt')));
    expect(w).toMatchObject({ old: 0x155041fff000n, len: 0x201000n, moved: 0x201000n });
    expect(w!.callees).toEqual([]);
  });
});

describe('a 6.12 walk, shifted back to the explained addresses', () => {
  it('starts below old_addr: realigned, two PMD entries', () => {
    const [raw] = walksOf(parseTraceText(fixture('6.12-example1.txt')));
    // The arena put the call 0x153840000000 higher (verify.shift in the JSON).
    const w = unshift(raw!, 0x153840000000n);
    expect(w.old).toBe(0x1fff000n);
    const d = deriveFromCallees(w.callees);
    expect(d).toEqual({
      pteExtents: 0,
      ptePages: 0,
      pmd: 2,
      pud: 0,
      starts: [0x1e00000n, 0x2000000n],
      odd: [],
    });
  });
});
