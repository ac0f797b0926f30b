import { describe, expect, it } from 'vitest';
import {
  differing,
  formatMultiKtap,
  oneLine,
  OUTER_OPTIONS,
  type KernelRun,
} from '../../src/cli/multi-kernel.js';
import { stripOptions } from '../../src/cli/argv.js';
import type { ScenarioResult } from '../../src/scenario/execute.js';
import type { RunReport } from '../../src/scenario/report/types.js';

const result = (
  id: string,
  status: ScenarioResult['status'],
  extra: Partial<ScenarioResult> = {},
): ScenarioResult => ({
  id,
  title: id,
  source: 'builtin',
  status,
  profile: 'p',
  steps: 1,
  durationMs: 1,
  ...extra,
});
const run = (release: string, results: ScenarioResult[]): KernelRun => ({
  kernel: release === 'h' ? 'host' : `debian:${release}`,
  release,
  accel: release === 'h' ? 'host' : 'tcg',
  report: {
    tool: 't',
    kernel: release,
    profile: 'p',
    profileReason: 'r',
    traits: 'zeroPage=true',
    results,
    loadErrors: [],
    durationMs: 5,
  } as RunReport,
});

describe('validate --kernel fan-out', () => {
  it('the inner command keeps its own options and loses the guest and output ones', () => {
    expect(
      stripOptions(
        [
          'validate',
          '--kernel',
          'host',
          '--kernel=debian:6.1',
          '--filter',
          'merge-*',
          '--mem',
          '2G',
          '--keep',
          '--format',
          'ktap',
          '-o',
          'x.txt',
          '--timeout',
          '5000',
        ],
        OUTER_OPTIONS,
      ),
    ).toEqual(['validate', '--filter', 'merge-*', '--timeout', '5000']);
  });

  it('the matrix lists exactly the scenarios whose status differs', () => {
    const runs = [
      run('h', [result('a', 'pass'), result('b', 'pass'), result('c', 'skip')]),
      run('6.1', [result('a', 'pass'), result('b', 'fail'), result('c', 'skip')]),
      {
        kernel: 'debian:6.12',
        release: '6.12',
        accel: 'tcg' as const,
        report: null,
        failure: 'no boot',
      },
    ];
    expect(differing(runs)).toEqual([{ id: 'b', status: { h: 'pass', '6.1': 'fail' } }]);
  });

  it('a divergence is summarised on one line: step, call, both results', () => {
    const r = result('x', 'fail', {
      divergence: {
        step: 2,
        call: 'mremap(a, 4096, 8192, MAYMOVE)',
        kernel: '0x1000',
        model: 'ENOMEM',
        differences: ['address differs', 'second'],
        kernelLayout: '',
        modelLayout: '',
      } as unknown as ScenarioResult['divergence'],
    });
    expect(oneLine(r)).toBe(
      'step 3 mremap(a, 4096, 8192, MAYMOVE): kernel 0x1000, model ENOMEM; address differs',
    );
    const long = result('z', 'fail', {
      expectationFailures: [
        { step: 0, side: 'kernel', message: `VMAs differ:\n${'x'.repeat(300)}` },
      ],
    } as Partial<ScenarioResult>);
    expect(oneLine(long)).toBe(`step 1 (kernel): VMAs differ: ${'x'.repeat(199 - 30)}…`);
    expect(oneLine(result('y', 'timeout', { reason: 'timed out\nafter 30000 ms' }))).toBe(
      'timed out after 30000 ms',
    );
  });

  it('KTAP nests one subtest per kernel; a kernel without a report is not ok', () => {
    const text = formatMultiKtap([
      run('h', [result('a', 'pass')]),
      {
        kernel: 'debian:6.12',
        release: '6.12',
        accel: 'tcg',
        report: null,
        failure: 'guest died\nlast line',
      },
    ]);
    expect(text.split('\n')).toEqual([
      'KTAP version 1',
      '1..2',
      '    KTAP version 1',
      '    # Subtest: h',
      '    # mremap-lab: kernel h, model p, traits zeroPage=true',
      '    1..1',
      '    ok 1 a',
      '    # Totals: pass:1 fail:0 skip:0 total:1',
      'ok 1 h',
      '# guest died',
      '# last line',
      '# no result from this kernel',
      'not ok 2 6.12',
    ]);
  });
});
