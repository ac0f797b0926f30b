// bench --trace: the verdict and the table cell of a case's traced walk.
import { describe, expect, it } from 'vitest';
import { traceCell, verdictOf, withPages, type CaseTrace } from '../../src/bench/trace.js';
import type { LevelRow } from '../../src/scenario/plan-verdict.js';

const row = (verdict: LevelRow['verdict']): LevelRow => ({
  level: 'PMD entries (move_normal_pmd)',
  model: '1',
  kernel: verdict === 'cannot verify' ? '?' : '1',
  verdict,
});

describe('verdictOf', () => {
  it('agrees when every observable level agrees, whatever cannot be verified', () => {
    expect(verdictOf([row('agree'), row('cannot verify')], null)).toBe('agree');
  });
  it('differs on a divergence', () => {
    expect(verdictOf([row('agree')], 'plan differs: model 1 PMD, kernel 1 PTE')).toBe('differ');
  });
  it('is no pass when nothing could be observed', () => {
    expect(verdictOf([row('cannot verify'), row('cannot verify')], null)).toBe('cannot verify');
  });
  it('agrees on an in-place resize that walks on neither side', () => {
    expect(verdictOf([], null)).toBe('agree');
  });
});

describe('traceCell', () => {
  const t: CaseTrace = {
    model: '2 PMD (realigned)',
    kernel: '1 PTE + 1 PMD',
    verdict: 'differ',
    divergence: 'plan differs: model 2 PMD (realigned), kernel 1 PTE + 1 PMD',
    rows: [],
    walks: 1,
  };
  it('states the kernel path and whether it is the plan', () => {
    expect(traceCell(t)).toBe('1 PTE + 1 PMD ≠ plan');
    expect(traceCell({ ...t, verdict: 'agree', kernel: '2 PMD (realigned)' })).toBe(
      '2 PMD (realigned) = plan',
    );
    expect(traceCell({ ...t, verdict: 'cannot verify', kernel: 'nothing' })).toBe(
      'nothing (cannot verify)',
    );
    expect(traceCell(undefined)).toBe('-');
  });
});

describe('withPages', () => {
  const c = {
    realigned: true,
    pteExtents: 1,
    ptePages: 2,
    pmd: 1,
    pud: 0,
    hugePmd: 0,
    hugePud: null,
    splits: 1,
  };
  it("gives the PTE extents' pages, as the predicted-plan column counts PTEs", () => {
    expect(withPages(c)).toBe('1 PTE extent (2 pages) + 1 PMD, 1 THP split (realigned)');
    expect(withPages({ ...c, pteExtents: 9, ptePages: null, splits: 0, realigned: false })).toBe(
      '9 PTE extents (? pages) + 1 PMD',
    );
    expect(withPages({ ...c, pteExtents: 0, ptePages: 0, splits: 0 })).toBe('1 PMD (realigned)');
  });
});
