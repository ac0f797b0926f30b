import { describe, expect, test } from 'vitest';
import { MLOCK, MREMAP } from '../../src/space/constants.js';
import type { ModelSpace } from '../../src/model/address-space.js';
import { P, anon, code, fill, flagsAt, layout, space, value } from './helpers.js';

const B = 0x10000000n;
const D = 0x20000000n;
const { MAYMOVE, FIXED, DONTUNMAP } = MREMAP;
const mv = (s: ModelSpace, addr: bigint, len: bigint, to: bigint, flags: bigint) =>
  s.remap({ addr, oldLen: len, newLen: len, flags, newAddr: to });

describe('MREMAP_DONTUNMAP — dontunmap_complete (Appendix A, e14_lockfix)', () => {
  test('not locked: source stays, unsplit and empty; both keep ac; frames move', () => {
    const s = space();
    anon(s, B, 8);
    fill(s, B, 8);
    const frame = s.snapshot(B + 2n * P, B + 3n * P).pages[0]!.frame;
    expect(value(mv(s, B + 2n * P, 2n * P, D, MAYMOVE | DONTUNMAP | FIXED))).toBe(D);
    expect(layout(s)).toEqual(['10000000-10008000', '20000000-20002000']);
    expect(flagsAt(s, B)).toContain('ac');
    expect(flagsAt(s, D)).toContain('ac');
    const src = s.snapshot(B + 2n * P, B + 4n * P).pages;
    expect(src.map((p) => p.present)).toEqual([false, false]);
    expect(s.snapshot(D, D + P).pages[0]!.frame).toBe(frame);
    expect(value(s.read(D + P))).toBe(B + 3n * P);
    expect(value(s.read(B + 2n * P))).toBe(0n); // fresh zero page after the move
  });

  test('locked whole VMA: source loses lo, destination keeps it; locked_vm grows by new_len (6.15+ leak)', () => {
    const s = space();
    anon(s, B, 4);
    value(s.lock(B, 4n * P, 0));
    expect(s.lockedVm).toBe(4);
    value(mv(s, B, 4n * P, D, MAYMOVE | DONTUNMAP | FIXED));
    expect(flagsAt(s, B)).not.toContain('lo');
    expect(flagsAt(s, D)).toContain('lo');
    expect(s.lockedVm).toBe(8);
    value(s.unmap(B, 4n * P));
    value(s.unmap(D, 4n * P));
    expect(s.lockedVm).toBe(4);
  });

  test('≤6.14: DONTUNMAP does not touch locked_vm', () => {
    const s = space('linux-6.6');
    anon(s, B, 4);
    value(s.lock(B, 4n * P, 0));
    value(mv(s, B, 4n * P, D, MAYMOVE | DONTUNMAP | FIXED));
    expect(s.lockedVm).toBe(4);
  });

  test('locked, partial, 6.1.y/6.12.y: the source is split first, only the moved range loses lo', () => {
    for (const profile of ['linux-6.1', 'linux-6.12']) {
      const s = space(profile);
      anon(s, B, 8);
      value(s.lock(B, 8n * P, 0));
      value(mv(s, B + 2n * P, 2n * P, D, MAYMOVE | DONTUNMAP | FIXED));
      expect(layout(s), profile).toEqual([
        '10000000-10002000',
        '10002000-10004000',
        '10004000-10008000',
        '20000000-20002000',
      ]);
      expect(flagsAt(s, B)).toContain('lo');
      expect(flagsAt(s, B + 2n * P)).not.toContain('lo');
      expect(flagsAt(s, B + 4n * P)).toContain('lo');
      expect(flagsAt(s, D)).toContain('lo');
    }
  });

  test('locked, partial: the whole source VMA loses lo and is not split', () => {
    const s = space();
    anon(s, B, 8);
    value(s.lock(B, 8n * P, 0));
    value(mv(s, B + 2n * P, 2n * P, D, MAYMOVE | DONTUNMAP | FIXED));
    expect(layout(s)).toEqual(['10000000-10008000', '20000000-20002000']);
    expect(flagsAt(s, B)).not.toContain('lo');
    expect(flagsAt(s, D)).toContain('lo');
  });

  test('mlock2 ONFAULT: source loses lo lf, destination keeps both', () => {
    const s = space();
    anon(s, B, 4);
    value(s.lock(B, 4n * P, MLOCK.ONFAULT));
    expect(flagsAt(s, B)).toEqual(expect.arrayContaining(['lo', 'lf']));
    value(mv(s, B, 4n * P, D, MAYMOVE | DONTUNMAP | FIXED));
    expect(flagsAt(s, B)).not.toContain('lf');
    expect(flagsAt(s, D)).toEqual(expect.arrayContaining(['lo', 'lf']));
  });

  test('VM_ACCOUNT on the source: kept on 6.18 and 6.6, cleared on 6.16/6.17 (b714ccb02a76)', () => {
    for (const [p, keeps] of [
      ['linux-6.6', true],
      ['linux-6.16', false],
      ['linux-6.17', false],
      ['linux-6.18', true],
    ] as const) {
      const s = space(p);
      anon(s, B, 4);
      value(mv(s, B, 4n * P, D, MAYMOVE | DONTUNMAP | FIXED));
      expect(flagsAt(s, B).includes('ac')).toBe(keeps);
    }
  });

  test('whole-VMA DONTUNMAP drops the anon_vma: the source merges with a fresh neighbour', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    value(mv(s, B, 4n * P, D, MAYMOVE | DONTUNMAP | FIXED));
    anon(s, B + 4n * P, 4);
    expect(layout(s, B, B + 8n * P)).toEqual(['10000000-10008000']);
  });

  test('DONTUNMAP without FIXED: new_addr is a hint', () => {
    const s = space();
    anon(s, B, 4);
    expect(value(mv(s, B, 4n * P, D, MAYMOVE | DONTUNMAP))).toBe(D);
    anon(s, 0x30000000n, 4);
    const r = value(mv(s, B, 4n * P, 0x30000000n, MAYMOVE | DONTUNMAP));
    expect(r).not.toBe(0x30000000n);
  });
});

describe('remap_move — multi-VMA FIXED same-size moves (6.17+, e6_multi)', () => {
  function three(s: ModelSpace): void {
    anon(s, B, 2);
    anon(s, B + 4n * P, 2, 1);
    anon(s, B + 8n * P, 2);
    fill(s, B, 2);
    fill(s, B + 8n * P, 2);
  }

  test('gaps preserved; returns new_addr', () => {
    const s = space();
    three(s);
    expect(value(mv(s, B, 10n * P, D, MAYMOVE | FIXED))).toBe(D);
    expect(layout(s)).toEqual(['20000000-20002000', '20004000-20006000', '20008000-2000a000']);
    expect(value(s.read(D + 9n * P))).toBe(B + 9n * P);
  });

  test('range starting in a gap → EFAULT', () => {
    const s = space();
    three(s);
    expect(code(mv(s, B + 2n * P, 8n * P, D, MAYMOVE | FIXED))).toBe('EFAULT');
  });

  test('mid-to-mid move splits both end VMAs', () => {
    const s = space();
    three(s);
    value(mv(s, B + P, 8n * P, D, MAYMOVE | FIXED));
    expect(layout(s)).toEqual([
      '10000000-10001000',
      '10009000-1000a000',
      '20000000-20001000',
      '20003000-20005000',
      '20007000-20008000',
    ]);
  });

  test('DONTUNMAP|FIXED across two VMAs works; DONTUNMAP without FIXED → EFAULT', () => {
    const s = space();
    three(s);
    expect(code(mv(s, B, 10n * P, D, MAYMOVE | DONTUNMAP))).toBe('EFAULT');
    expect(code(mv(s, B, 10n * P, D, MAYMOVE | DONTUNMAP | FIXED))).toBe('ok');
    expect(layout(s).length).toBe(6);
  });

  test('a mapping in a destination gap survives', () => {
    const s = space();
    three(s);
    anon(s, D + 2n * P, 2, 0);
    value(mv(s, B, 10n * P, D, MAYMOVE | FIXED));
    expect(layout(s)).toEqual([
      '20000000-20002000',
      '20002000-20004000',
      '20004000-20006000',
      '20008000-2000a000',
    ]);
  });

  test('sealed second VMA: the first is moved, then EPERM (not atomic)', () => {
    const s = space();
    three(s);
    value(s.seal(B + 4n * P, 2n * P));
    expect(code(mv(s, B, 10n * P, D, MAYMOVE | FIXED))).toBe('EPERM');
    expect(layout(s)).toEqual(['10004000-10006000', '10008000-1000a000', '20000000-20002000']);
  });

  test('uffd-armed VMA cannot take part (vma_multi_allowed) → EFAULT', () => {
    const s = space();
    three(s);
    value(s.uffdRegister(B + 8n * P, 2n * P));
    expect(code(mv(s, B, 10n * P, D, MAYMOVE | FIXED))).toBe('EFAULT');
  });

  test('linux-6.16: the same move spans VMAs → EFAULT', () => {
    const s = space('linux-6.16');
    three(s);
    expect(code(mv(s, B, 10n * P, D, MAYMOVE | FIXED))).toBe('EFAULT');
  });

  test('uffd registration is dropped on the moved VMA (no EVENT_REMAP)', () => {
    const s = space();
    anon(s, B, 2);
    value(s.uffdRegister(B, 2n * P));
    value(mv(s, B, 2n * P, D, MAYMOVE | FIXED));
    expect(flagsAt(s, D)).not.toContain('um');
  });
});

describe('copy_vma pgoff rule', () => {
  test('unfaulted anon takes new_addr/PS; faulted keeps its pgoff', () => {
    const s = space();
    anon(s, B, 4);
    value(mv(s, B, 4n * P, D, MAYMOVE | FIXED));
    expect(s.vmas()[0]!.pgoff).toBe(Number(D / P));
    fill(s, D, 1);
    value(mv(s, D, 4n * P, B, MAYMOVE | FIXED));
    expect(s.vmas()[0]!.pgoff).toBe(Number(D / P));
  });

  test('unfaulted self-merge: moving the tail right after the VMA merges with its own remaining part', () => {
    const s = space();
    anon(s, B, 8);
    anon(s, B + 8n * P, 1, 1);
    value(s.unmap(B + 8n * P, P));
    value(mv(s, B + 4n * P, 4n * P, B + 8n * P, MAYMOVE | FIXED));
    expect(layout(s)).toEqual(['10000000-10004000', '10008000-1000c000']);
    expect(s.lastTrace.entries.map((e) => e.step)).toContain(
      'copy_vma: source merged into destination (unfaulted self-merge)',
    );
  });
});
