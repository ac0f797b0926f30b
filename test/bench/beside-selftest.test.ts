// bench --beside-selftest: the selftest's output parsed, the verdict per case, the build
// from a source tree, and one real pair against a stand-in program (the kernel's own
// mremap_test is never vendored here; CI builds it from Debian's linux-source).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseCases,
  judge,
  MEASURED,
  runBesideSelftest,
} from '../../src/bench/beside-selftest.js';
import {
  buildSelftest,
  parseSelftestOutput,
  selftestSourceTop,
} from '../../src/bench/selftest-build.js';
import { SELFTEST_CASES } from '../../src/bench/selftest-cases.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-beside-'));
const N8K = SELFTEST_CASES[0]!.name;

// KTAP as run_mremap_test_case() prints it: a result line, then the time on its own line.
const KTAP = [
  '1..3',
  'ok 1 # XFAIL mremap - Source and Destination Regions Overlapping',
  '\tExpected mremap failure',
  `ok 4 ${N8K}`,
  '\tmremap time:         9864ns',
  'not ok 5 2MB mremap - Source 1MB-aligned, Destination PTE-aligned',
  'ok 10 2GB mremap - Source PUD-aligned, Destination PTE-aligned',
  '',
].join('\n');

/**
 * A stand-in source tree whose "mremap_test" prints KTAP with a fixed time; `ns` may be a C
 * expression (the program includes sched.h).
 */
function fakeTree(ns: number | string): string {
  const top = fs.mkdtempSync(path.join(tmp, 'tree-'));
  fs.mkdirSync(path.join(top, 'tools/testing/selftests/mm'), { recursive: true });
  fs.writeFileSync(path.join(top, 'tools/testing/selftests/kselftest.h'), '#include <stdio.h>\n');
  fs.writeFileSync(
    path.join(top, 'tools/testing/selftests/mm/mremap_test.c'),
    `#define _GNU_SOURCE\n#include <sched.h>\n#include "../kselftest.h"\nint main(void) { printf("ok 4 %s\\n\\tmremap time: %12dns\\n", "${N8K}", (int)(${ns})); return 0; }\n`,
  );
  return top;
}

describe('bench --beside-selftest', () => {
  it('reads the times the selftest prints, and its failures', () => {
    const r = parseSelftestOutput(KTAP);
    expect([...r.times]).toEqual([[N8K, 9864]]);
    expect(r.failed).toEqual(['2MB mremap - Source 1MB-aligned, Destination PTE-aligned']);
  });

  it('judges each case from its pair ratios', () => {
    const v = (bench: number[]) => judge({ name: 'x', selftest: [100, 100, 100], bench });
    expect(v([101, 98, 104])).toMatchObject({
      verdict: 'match',
      ratio: 1.01,
      spread: [0.98, 1.04],
    });
    expect(v([120, 130, 110]).verdict).toBe('bench does more');
    expect(v([50, 60, 70]).verdict).toBe('selftest does more');
    expect(v([90, 102, 120]).verdict).toBe('match (median; pairs scatter)');
    expect(v([90, 110, 130]).verdict).toBe('uncertain');
    expect(v([50, 60, 70]).why).toMatch(
      /^candidate \(not measured\): the selftest's one shot per case/,
    );
    // A case whose difference was measured says what was found instead of the candidates.
    const n8k = judge({ name: N8K, selftest: [100, 100, 100], bench: [50, 55, 60] });
    expect(n8k.verdict).toBe('selftest does more');
    expect(n8k.why).toMatch(/^measured: the selftest's one shot is the first move of its process/);
    const names = new Set(SELFTEST_CASES.map((c) => c.name));
    for (const name of Object.keys(MEASURED)) expect(names.has(name), name).toBe(true);
  });

  it('refuses what it cannot use, saying what to give', () => {
    expect(() => selftestSourceTop(path.join(tmp, 'nope'))).toThrow(
      'no such file or directory (give a kernel source tree',
    );
    expect(() => selftestSourceTop(tmp)).toThrow(
      'no tools/testing/selftests/mm/mremap_test.c in it',
    );
    expect(() => chooseCases('^nothing')).toThrow('matches none of the selftest');
    expect(() => chooseCases('(')).toThrow('not a regular expression');
    expect(chooseCases('^1GB').map((s) => s.size)).toEqual([2 ** 30, 2 ** 30, 2 ** 30]);
  });

  it('builds the program from a tree, runs it beside bench, and pairs the times', async () => {
    const bin = buildSelftest(selftestSourceTop(fakeTree(123456)));
    const out = path.join(tmp, 'run');
    const rows = await runBesideSelftest({
      binary: bin,
      pairs: 2,
      samples: 3,
      warmup: 1,
      cases: chooseCases('^8KB'),
      outDir: out,
      pin: null,
      command: ['test'],
    });
    expect(rows.map((r) => [r.name, r.pairs, r.selftestMedian])).toEqual([[N8K, 2, 123456]]);
    expect(rows[0]!.ratio).toBeCloseTo(rows[0]!.benchMedian / 123456, 9);
    expect(fs.readdirSync(out).sort()).toEqual([
      'bench-1.jsonl',
      'bench-2.jsonl',
      'selftest-1.txt',
      'selftest-2.txt',
    ]);
  }, 120_000);

  it('runs the selftest on the --pin CPU too', async () => {
    // The stand-in prints 1000 + the number of CPUs it may run on.
    const count = '({ cpu_set_t s; sched_getaffinity(0, sizeof s, &s); 1000 + CPU_COUNT(&s); })';
    const bin = buildSelftest(selftestSourceTop(fakeTree(count)));
    const rows = await runBesideSelftest({
      binary: bin,
      pairs: 1,
      samples: 1,
      warmup: 0,
      cases: chooseCases('^8KB'),
      outDir: path.join(tmp, 'pinned'),
      pin: 0,
      command: ['test'],
    });
    expect(rows.map((r) => r.selftestMedian)).toEqual([1001]);
  }, 120_000);
});
