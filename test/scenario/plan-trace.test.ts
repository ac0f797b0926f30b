/**
 * validate --trace: one mremap step's model plans against its traced walks, the ranges
 * can_align_down() must find as holes, and how the plan evidence shows in every report.
 */
import { describe, expect, it } from 'vitest';
import { emptyWalk, type TracedWalk } from '../../src/kernel/trace/parse.js';
import { allProbed, inline, plan66, plan67, walk61 } from './trace-fixtures.js';
import { comparePlans } from '../../src/scenario/plan-verdict.js';
import { alignDownRanges } from '../../src/scenario/plan-trace.js';
import { MREMAP } from '../../src/space/constants.js';
import { planTraceLines, summarizePlans } from '../../src/scenario/report/plan-summary.js';
import { failureDetail } from '../../src/scenario/report/detail.js';
import { formatPretty } from '../../src/scenario/report/pretty.js';
import { formatKtap } from '../../src/scenario/report/ktap.js';
import { formatJunit } from '../../src/scenario/report/junit.js';
import type { RunReport } from '../../src/scenario/report/types.js';
import type { ScenarioResult } from '../../src/scenario/execute.js';

const noHugePud = inline(['move_huge_pud']);

/** 6.12 on example 1: realigned to 0x1e00000, two PMD entries. */
const walk612: TracedWalk = {
  ...walk61,
  ptes: [],
  calls: {
    ...emptyWalk().calls,
    move_normal_pmd: [
      { old: 0x1e00000n, moved: true },
      { old: 0x2000000n, moved: true },
    ],
  },
};

describe('comparePlans', () => {
  it('agrees when the walk is the plan, with unobservable levels left as such', () => {
    const v = comparePlans([plan67], [walk612], noHugePud);
    expect(v.divergence).toBeNull();
    expect(v.walks).toHaveLength(1);
    const hugePud = v.walks[0]!.find((r) => r.level.startsWith('huge PUDs'))!;
    expect(hugePud.verdict).toBe('cannot verify');
    expect(hugePud.reason).toBe('move_huge_pud: not a symbol (inlined or absent)');
    expect(v.walks[0]!.filter((r) => r.verdict === 'agree')).toHaveLength(7);
  });

  it('diverges on the plan when a 6.6 profile meets a 6.12 walk', () => {
    const v = comparePlans([plan66], [walk612], allProbed);
    expect(v.divergence).toBe('plan differs: model 1 PTE + 1 PMD, kernel 2 PMD (realigned)');
  });

  it('names a missing or an extra walk', () => {
    expect(comparePlans([plan66], [], allProbed).divergence).toBe(
      'plan differs: model 1 move_page_tables() call (1 PTE + 1 PMD), kernel 0 move_page_tables() calls (no move_page_tables() call)',
    );
    expect(comparePlans([], [walk61], allProbed).divergence).toBe(
      'plan differs: model 0 move_page_tables() calls (no move_page_tables() call), kernel 1 move_page_tables() call (1 PTE + 1 PMD)',
    );
  });

  it('joins the walks of a call that moved back', () => {
    const v = comparePlans([plan66, plan66], [walk61, walk612], allProbed);
    expect(v.divergence).toBe(
      'plan differs: model 1 PTE + 1 PMD, then 1 PTE + 1 PMD, kernel 1 PTE + 1 PMD, then 2 PMD (realigned)',
    );
    expect(v.walks).toHaveLength(2);
  });
});

describe('alignDownRanges', () => {
  it('opens [addr & PMD_MASK, addr) of the source and of a chosen destination', () => {
    expect(
      alignDownRanges({
        addr: 0x40100000n,
        oldLen: 0x200000n,
        newLen: 0x200000n,
        flags: MREMAP.MAYMOVE | MREMAP.FIXED,
        newAddr: 0x80101000n,
      }),
    ).toEqual([
      { start: 0x40000000n, end: 0x40100000n },
      { start: 0x80000000n, end: 0x80101000n },
    ]);
  });

  it('opens nothing for a PMD-aligned source and ignores a destination the kernel picks', () => {
    expect(
      alignDownRanges({
        addr: 0x40200000n,
        oldLen: 0x1000n,
        newLen: 0x2000n,
        flags: MREMAP.MAYMOVE,
        newAddr: 0x80101000n,
      }),
    ).toEqual([]);
  });
});

const step = (
  divergence: string | null,
  walks = [comparePlans([plan66], [walk61], noHugePud).walks[0]!],
) => ({
  step: 3,
  walks,
  divergence,
});

function report(results: ScenarioResult[], problem: string | null = null): RunReport {
  return {
    tool: 'mremap-lab 0.1.0',
    kernel: '6.12.117+deb12-amd64',
    profile: 'linux-6.6',
    profileReason: 'chosen',
    traits: 'zeroPage=true',
    results,
    loadErrors: [],
    durationMs: 10,
    trace: summarizePlans({ method: 'kprobe events', problem }, results),
  };
}

const wrong = comparePlans([plan66], [walk612], noHugePud);
const failing: ScenarioResult = {
  id: 'align-2m-1m-1m',
  title: 't',
  source: 's',
  status: 'fail',
  profile: 'linux-6.6',
  steps: 4,
  durationMs: 1,
  divergence: {
    step: 3,
    call: 'mremap(src, 512 pages, 512 pages, MAYMOVE|FIXED, dst)',
    kernel: '@dst',
    model: '@dst',
    differences: [wrong.divergence!],
    kernelLayout: '',
    modelLayout: '',
    explain: '',
  },
  planChecks: [{ step: 3, ...wrong }],
};
const passing: ScenarioResult = {
  id: 'align-4m-pmd-pmd',
  title: 't',
  source: 's',
  status: 'pass',
  profile: 'linux-6.6',
  steps: 4,
  durationMs: 1,
  planChecks: [step(null)],
};

describe('plan evidence in the reports', () => {
  it('tallies walks and levels, with the reasons a level cannot be verified', () => {
    const t = summarizePlans({ method: 'kprobe events', problem: null }, [failing, passing]);
    expect(t).toMatchObject({ steps: 2, walks: 2, agree: 1, differ: 1 });
    const lines = planTraceLines(t);
    expect(lines[1]).toBe(
      'plans: 2 mremap steps with a move, 2 move_page_tables() walks: 1 agree on every observable level, 1 differ',
    );
    expect(lines).toContain('  realigned (try_realign_addr): 1 agree, 1 differ');
    expect(lines).toContain(
      '  huge PUDs (move_huge_pud): 0 agree, 0 differ, 2 cannot verify (move_huge_pud: not a symbol (inlined or absent))',
    );
  });

  it('says plainly when the kernel lets nothing be observed', () => {
    const lines = planTraceLines(
      summarizePlans({ method: 'none', problem: 'no kprobe_events' }, []),
    );
    expect(lines).toEqual([
      'plan trace: the move plan cannot be verified on this kernel: no kprobe_events (mremap-lab trace status says what is missing)',
    ]);
  });

  it('puts the divergence and its rows in the failure detail', () => {
    const d = failureDetail(failing);
    expect(d).toContain('  plan differs: model 1 PTE + 1 PMD, kernel 2 PMD (realigned)');
    expect(d).toContain('plan, walk 1 of 1:');
    expect(d).toContain('  PMD entries (move_normal_pmd): model 1, kernel 2 — differ');
  });

  it('carries the plan lines in pretty, KTAP and JUnit', () => {
    const r = report([failing, passing]);
    const pretty = formatPretty(r);
    expect(pretty).toContain('plan trace: kprobe events');
    expect(pretty).toContain('plan differs: model 1 PTE + 1 PMD, kernel 2 PMD (realigned)');
    const ktap = formatKtap(r);
    expect(ktap).toContain('# plans: 2 mremap steps with a move');
    expect(ktap).toContain('#   plan differs: model 1 PTE + 1 PMD, kernel 2 PMD (realigned)');
    const junit = formatJunit(r);
    expect(junit).toContain('<property name="plan-trace" value="plan trace: kprobe events');
    expect(junit).toContain(
      'message="plan differs: model 1 PTE + 1 PMD, kernel 2 PMD (realigned)"',
    );
    const none = formatPretty(report([], 'no kprobe_events'));
    expect(none).toContain(
      'plan trace: the move plan cannot be verified on this kernel: no kprobe_events',
    );
  });
});
