/**
 * The confusion matrix from `validate --profiles` reports (one kernel run, every profile)
 * and the rules CI holds it to.
 */
import { describe, expect, it } from 'vitest';
import {
  checkConfusion,
  formatProfileCounts,
  reportsByProfile,
  sameRules,
  validateReports,
} from '../../src/scenario/confusion.js';
import { confusionMatrix, formatConfusion } from '../../src/scenario/profile-matrix.js';
import type { RunReport } from '../../src/scenario/report/types.js';

/** A --profiles report: statuses[profile][i] is scenario i's verdict under that profile. */
function report(kernel: string, own: string, statuses: Record<string, string[]>): RunReport {
  const profiles = Object.keys(statuses);
  const n = statuses[own]!.length;
  return {
    tool: 'test',
    kernel,
    profile: own,
    profileReason: 'auto',
    traits: '',
    loadErrors: [],
    durationMs: 0,
    profiles,
    results: Array.from({ length: n }, (_, i) => ({
      id: `s${i}`,
      title: '',
      source: '',
      status: statuses[own]![i] as 'pass',
      profile: own,
      steps: 1,
      durationMs: 0,
      profiles: Object.fromEntries(
        profiles.map((p) => [p, { status: statuses[p]![i] as 'pass', steps: 1 }]),
      ),
    })),
  };
}

describe('confusion matrix from one kernel run per kernel', () => {
  const k61 = report('6.1.0-57-amd64', 'linux-6.1', {
    'linux-6.1': ['pass', 'pass', 'skip', 'pass'],
    'linux-6.6': ['pass', 'pass', 'skip', 'pass'],
    'linux-6.18': ['fail', 'fail', 'skip', 'fail'],
  });
  const k618 = report('6.18.44', 'linux-6.18', {
    'linux-6.1': ['fail', 'fail', 'fail', 'pass'],
    'linux-6.6': ['fail', 'pass', 'pass', 'pass'],
    'linux-6.18': ['pass', 'pass', 'pass', 'skip'],
  });

  it('splits each report into one column per profile, the own profile marked', () => {
    const c = confusionMatrix([...reportsByProfile(k61), ...reportsByProfile(k618)]);
    expect(c.own).toEqual({ '6.1.0-57-amd64': 'linux-6.1', '6.18.44': 'linux-6.18' });
    expect(formatConfusion(c)).toBe(
      [
        '| profile \\ kernel | 6.1.0-57-amd64 | 6.18.44 |',
        '|---|---:|---:|',
        '| linux-6.1 | **0** (1 skip) | 3 (0 skip) |',
        '| linux-6.6 | 0 (1 skip) | 1 (0 skip) |',
        '| linux-6.18 | 3 (1 skip) | **0** (1 skip) |',
      ].join('\n'),
    );
    expect(formatProfileCounts(k618)).toBe(
      [
        'profiles, judged from the same kernel run:',
        '  linux-6.1: 3 failed, 0 skipped',
        '  linux-6.6: 1 failed, 0 skipped',
        '  linux-6.18: 0 failed, 1 skipped (chosen)',
      ].join('\n'),
    );
  });

  it('fails a wrong profile caught by fewer than 3, unless its rules are the own profile’s', () => {
    expect(sameRules('linux-6.1', 'linux-6.1')).toBe(true);
    expect(sameRules('linux-6.1', 'linux-6.18')).toBe(false);
    const v = checkConfusion(
      confusionMatrix([...reportsByProfile(k61), ...reportsByProfile(k618)]),
    );
    // linux-6.6 is caught by no scenario on the 6.1 kernel: allowed only while the two
    // profiles have the same rules (a profile that gains a 6.6 rule ends the exemption).
    const alike = sameRules('linux-6.1', 'linux-6.6');
    const on61 = '6.1.0-57-amd64: linux-6.6 caught by 0 (< 3)';
    expect(v.exempt).toEqual(
      alike ? [`${on61}, allowed: its rules are linux-6.1's, no scenario can tell them apart`] : [],
    );
    expect(v.problems).toEqual([
      ...(alike
        ? []
        : ['6.1.0-57-amd64: the wrong profile linux-6.6 is caught by 0 scenario(s) (< 3)']),
      '6.18.44: the wrong profile linux-6.6 is caught by 1 scenario(s) (< 3)',
    ]);
  });

  it('fails a kernel whose own profile fails, and one whose own profile is unknown', () => {
    const bad = report('6.12.117', 'linux-6.12', {
      'linux-6.12': ['fail', 'pass', 'pass', 'pass'],
      'linux-6.18': ['fail', 'fail', 'fail', 'pass'],
    });
    const legacy = {
      kernel: '6.6.1',
      profile: 'linux-6.6',
      results: [{ id: 'a', status: 'pass' }],
    };
    const v = checkConfusion(confusionMatrix([...reportsByProfile(bad), legacy]));
    expect(v.problems).toContain('6.12.117: its own profile linux-6.12 fails 1 scenario(s)');
    expect(v.problems).toContain('6.6.1: the report does not say which profile auto picked');
  });

  it('reads a single report and the --kernel document with one per kernel', () => {
    expect(validateReports(k61)).toEqual([k61]);
    expect(validateReports({ kernels: { a: k61, b: k618 } })).toEqual([k61, k618]);
    expect(validateReports({ kernels: { a: { nope: 1 } } })).toBeNull();
    expect(validateReports([])).toBeNull();
  });
});
