/**
 * KTAP output checked by a strict parser that follows the rules of the kernel's
 * tools/testing/kunit/kunit_parser.py and Documentation/dev-tools/ktap.rst: version line,
 * plan, results numbered 1..N whose names hold no '#', SKIP (or TODO) as the only
 * directives, and every other line a "# " diagnostic — a bare line is "unknown" and lost.
 * Steps are numbered from 0 in every format, as `$.steps[i]`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../src/scenario/execute.js';
import { formatJunit } from '../../src/scenario/report/junit.js';
import { formatKtap } from '../../src/scenario/report/ktap.js';
import { formatPretty } from '../../src/scenario/report/pretty.js';
import type { RunReport } from '../../src/scenario/report/types.js';

interface KtapTest {
  num: number;
  name: string;
  ok: boolean;
  directive: 'SKIP' | 'TODO' | null;
  /** The "# " diagnostics between the previous result and this one. */
  diagnostics: string[];
}

const KTAP_START = /^KTAP version 1$/;
const PLAN = /^1\.\.([0-9]+)$/;
const RESULT = /^(ok|not ok) ([0-9]+) (- )?([^#]*?)( # (.*))?$/;
const DIAGNOSTIC = /^# (.*)$/;

/** Throws at the first line kunit_parser would not read as the test result it is meant to be. */
function parseKtap(text: string): { tests: KtapTest[]; trailing: string[] } {
  const lines = text.replace(/\n$/, '').split('\n');
  const fail = (i: number, why: string): never => {
    throw new Error(`KTAP line ${i + 1} ${JSON.stringify(lines[i])}: ${why}`);
  };
  if (!KTAP_START.test(lines[0] ?? '')) fail(0, 'expected "KTAP version 1"');
  let i = 1;
  while (i < lines.length && DIAGNOSTIC.test(lines[i]!)) i++;
  const plan = PLAN.exec(lines[i] ?? '');
  if (!plan) fail(i, 'expected the plan 1..N');
  const planned = Number(plan![1]);
  const tests: KtapTest[] = [];
  let diagnostics: string[] = [];
  for (i++; i < lines.length; i++) {
    const l = lines[i]!;
    const d = DIAGNOSTIC.exec(l);
    if (d) {
      diagnostics.push(d[1]!);
      continue;
    }
    const m = RESULT.exec(l);
    if (!m) fail(i, 'neither a result nor a "# " diagnostic: a KTAP parser drops it');
    const num = Number(m![2]);
    if (num !== tests.length + 1) fail(i, `expected test number ${tests.length + 1}`);
    const name = m![4]!.trim();
    if (name === '') fail(i, 'a result needs a name');
    let directive: KtapTest['directive'] = null;
    if (m![5] !== undefined) {
      const dm = /^(SKIP|TODO)\b/.exec(m![6]!);
      if (!dm) fail(i, `non-standard directive "# ${m![6]}" (only SKIP and TODO)`);
      directive = dm![1] as 'SKIP' | 'TODO';
    }
    tests.push({ num, name, ok: m![1] === 'ok', directive, diagnostics });
    diagnostics = [];
  }
  if (tests.length !== planned)
    fail(lines.length - 1, `plan says ${planned}, found ${tests.length}`);
  return { tests, trailing: diagnostics };
}

const base = { title: 't', source: 'mm/mremap.c', profile: 'linux-6.18', durationMs: 1 };
const results: ScenarioResult[] = [
  { ...base, id: 'a-pass', status: 'pass', steps: 2 },
  { ...base, id: 'b-skip', status: 'skip', steps: 0, reason: 'needs mseal\n(6.10+)' },
  {
    ...base,
    id: 'c-fail',
    status: 'fail',
    steps: 4,
    divergence: {
      step: 3,
      call: 'mremap(@0, 1 page, 1 page, MAYMOVE|FIXED, @8)',
      kernel: '@8',
      model: '@8',
      differences: ['page @8:\nzero page kernel false, model true'],
      kernelLayout: 'A [@8, @9) rw-p anon',
      modelLayout: 'A [@8, @9) rw-p anon',
      explain: 'move_vma\n  copy_vma',
    },
  },
  {
    ...base,
    id: 'd-crash',
    status: 'crash',
    steps: 0,
    reason: 'worker died (SIGABRT): node: ../src/x.cc:1\n  Assertion failed',
  },
  { ...base, id: 'e-timeout', status: 'timeout', steps: 0, reason: 'no result after 5 ms' },
  {
    ...base,
    id: 'f-expect',
    status: 'fail',
    steps: 2,
    expectationFailures: [{ step: 1, side: 'kernel', message: 'expected EINVAL, got @0' }],
  },
];
const report: RunReport = {
  tool: 'mremap-lab 0.1.0',
  kernel: '6.18.0',
  profile: 'linux-6.18',
  profileReason: 'test',
  traits: 'zeroPage=true',
  results,
  loadErrors: [{ file: '/tmp/my #1.json', path: '$.steps[2].at', message: 'outside the arena' }],
  durationMs: 10,
};

describe('KTAP', () => {
  it('every line is the version, the plan, a result or a "# " diagnostic', () => {
    const { tests, trailing } = parseKtap(formatKtap(report));
    expect(tests.map((t) => [t.name, t.ok, t.directive])).toEqual([
      ['a-pass', true, null],
      ['b-skip', true, 'SKIP'],
      ['c-fail', false, null],
      ['d-crash', false, null],
      ['e-timeout', false, null],
      ['f-expect', false, null],
      ['my__1.json', false, null],
    ]);
    expect(tests[2]!.diagnostics).toContain('zero page kernel false, model true');
    expect(tests[2]!.diagnostics).toContain(
      'divergence at step 3: mremap(@0, 1 page, 1 page, MAYMOVE|FIXED, @8)',
    );
    expect(tests[3]!.diagnostics).toContain('  Assertion failed');
    expect(tests[5]!.diagnostics).toContain('step 1 (kernel): expected EINVAL, got @0');
    expect(tests[6]!.diagnostics).toEqual([
      'input error: /tmp/my #1.json at $.steps[2].at: outside the arena',
    ]);
    expect(trailing).toEqual(['Totals: pass:1 fail:5 skip:1 total:7']);
  });

  it('the real validate --format ktap output parses', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const r = spawnSync(
      process.execPath,
      [
        path.join(root, 'dist/cli/main.js'),
        'validate',
        '--suite',
        path.join(root, 'test/fixtures/scenarios/multi'),
        'builtin',
        '--filter',
        'fixture-*',
        '--profile',
        'linux-6.6',
        '--format',
        'ktap',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const { tests } = parseKtap(r.stdout);
    expect(tests.map((t) => t.name)).toEqual(['fixture-multi-vma-move']);
  });
});

describe('one step numbering (0-based, as $.steps[i])', () => {
  it('pretty, KTAP and JUnit name the step the JSON names', () => {
    const c = results[2]!;
    expect(c.divergence!.step).toBe(3);
    for (const text of [formatPretty(report), formatKtap(report), formatJunit(report)]) {
      expect(text).toContain('divergence at step 3: mremap(');
      expect(text).toContain('step 1 (kernel): expected EINVAL');
      expect(text).not.toContain('divergence at step 4');
    }
  });
});
