/**
 * mremap_test.c's alignment matrix as placed by trace matrix: each address aligned to its
 * case's alignment and not to the next power of two (get_source_mapping()), and the plan
 * the 6.6 model predicts for each, which the traced plan is compared with in a guest.
 */
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../src/model/profiles.js';
import type { TracerStatus } from '../../src/kernel/trace/discover.js';
import { ALIGNMENT_MATRIX, formatMatrix, runMatrix } from '../../src/scenario/trace-matrix.js';

const noTracer: TracerStatus = {
  release: 'test',
  tracefs: null,
  problem: 'tracefs unavailable: test',
  lockdown: null,
  kptrRestrict: null,
  filterFunctions: 'not read',
  kprobeEvents: 'not checked',
  targets: [],
  method: 'none',
};

describe('trace matrix', () => {
  const rows = runMatrix(getProfile('linux-6.6'), noTracer);

  it('places each case aligned to its alignment and not to twice it', () => {
    rows.forEach((r, i) => {
      const c = ALIGNMENT_MATRIX[i]!;
      expect([r.old % c.srcAlign, (r.old / c.srcAlign) % 2n]).toEqual([0n, 1n]);
      expect([r.new % c.dstAlign, (r.new / c.dstAlign) % 2n]).toEqual([0n, 1n]);
    });
  });

  it('carries the model plan per case, and no verdict without a tracer', () => {
    expect(rows.map((r) => r.model)).toEqual([
      '1 PTE',
      '3 PTE',
      '2 PTE',
      '4 PTE',
      '4 PTE',
      '2 PMD',
      '2048 PTE',
      '2048 PTE',
      '1024 PMD',
      '2 PUD',
    ]);
    expect(new Set(rows.map((r) => r.verdict))).toEqual(new Set(['cannot verify']));
    expect(formatMatrix(rows, noTracer, 'linux-6.6').split('\n').at(-1)).toBe(
      'cannot trace: tracefs unavailable: test',
    );
  });
});

describe('formatMatrix', () => {
  it('says how many levels agreed when the rest could not be verified', () => {
    const traced: TracerStatus = { ...noTracer, tracefs: '/t', problem: null, method: 'kprobes' };
    const out = formatMatrix(
      [
        {
          name: 'case',
          old: 0x200200000n,
          new: 0x400200000n,
          len: 0x400000n,
          model: '2 PMD',
          kernel: '2 PMD',
          verdict: 'cannot verify',
          verified: 7,
          levels: 8,
          notes: ['huge PUDs (move_huge_pud): move_huge_pud: not a symbol (inlined or absent)'],
        },
      ],
      traced,
      'linux-6.1',
    );
    expect(out.split('\n')).toEqual([
      'kernel test, model linux-6.1',
      '',
      '| case | old | new | model plan | traced plan | verdict |',
      '| --- | --- | --- | --- | --- | --- |',
      '| case | 0x200200000 | 0x400200000 | 2 PMD | 2 PMD | agree on 7 of 8 levels, rest cannot verify |',
      '',
      '- case: huge PUDs (move_huge_pud): move_huge_pud: not a symbol (inlined or absent)',
    ]);
  });
});
