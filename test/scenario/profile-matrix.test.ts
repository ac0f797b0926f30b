/**
 * The suite tells kernel versions apart: every pair of release profiles whose rules differ
 * is separated by at least 3 built-in scenarios, model-only, in both directions (the
 * profile standing in for the kernel, the other as the model). docs/profile-matrix.md is
 * this computation's output and must stay current.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile, type Profile } from '../../src/model/profiles.js';
import {
  comparePair,
  confusionMatrix,
  formatConfusion,
  formatProfileMatrix,
  profileMatrix,
  RELEASE_PROFILES,
} from '../../src/scenario/profile-matrix.js';
import { loadScenarios } from '../../src/scenario/suite.js';

const root = path.resolve(import.meta.dirname, '../..');

/** The switches, without what only names or describes the profile. */
function rules(p: Profile): string {
  const { name: _n, version: _v, description: _d, ...rest } = p;
  return JSON.stringify(rest);
}

describe('profile matrix', () => {
  const { scenarios, errors } = loadScenarios(['builtin']);
  const rows = profileMatrix(scenarios.map((s) => s.scenario));

  it('separates every pair of differing profiles by at least 3 built-in scenarios', () => {
    expect(errors).toEqual([]);
    const weak: string[] = [];
    const alike: string[] = [];
    for (const r of rows) {
      expect(r.errors, `${r.model} on ${r.kernel}`).toEqual([]);
      if (rules(getProfile(r.kernel)) === rules(getProfile(r.model))) {
        alike.push(`${r.kernel}/${r.model}`);
        expect(r.separating).toEqual([]);
      } else if (r.separating.length < 3) {
        weak.push(`${r.model} on ${r.kernel}: ${r.separating.map((s) => s.id).join(', ')}`);
      }
    }
    expect(weak).toEqual([]);
    // Every release profile differs in some rule (6.1 and 6.6 by their UFFDIO_API features,
    // issue #14): no pair is exempt from the 3 scenarios.
    expect(alike).toEqual([]);
    expect(rows).toHaveLength(RELEASE_PROFILES.length * (RELEASE_PROFILES.length - 1));
  });

  it('docs/profile-matrix.md is the current output (npm run build:ts && node scripts/profile-matrix.mjs --write)', () => {
    const doc = fs.readFileSync(path.join(root, 'docs/profile-matrix.md'), 'utf8');
    expect(doc).toBe(`${formatProfileMatrix(rows)}\n`);
  });

  it('a pair diverges at the step where the rules differ, and only where the scenario runs', () => {
    const sc = scenarios.find((s) => s.scenario.id === 'version-mseal-then-munmap')!.scenario;
    const o = comparePair(sc, getProfile('linux-6.1'), getProfile('linux-6.12'));
    expect(o.kind).toBe('diverge');
    if (o.kind === 'diverge') {
      expect(o.divergence.step).toBe(1);
      expect(o.divergence.differences[0]).toBe('result: kernel -1 ENOSYS, model 0');
    }
    expect(comparePair(sc, getProfile('linux-6.12'), getProfile('linux-6.18')).kind).toBe('same');
    const sealed = scenarios.find((s) => s.scenario.id === 'seal-move')!.scenario;
    expect(comparePair(sealed, getProfile('linux-6.1'), getProfile('linux-6.12'))).toEqual({
      kind: 'skip',
      reason: 'a 6.1 kernel (profile linux-6.1) lacks mseal',
    });
  });
});

describe('confusion matrix from validate reports', () => {
  const report = (kernel: string, profile: string, statuses: string[]) => ({
    kernel,
    profile,
    results: statuses.map((status, i) => ({ id: `s${i}`, status })),
  });

  it('counts failed (fail, crash, timeout, error) and skipped scenarios per profile and kernel', () => {
    const c = confusionMatrix([
      report('6.1.0-27-amd64', 'linux-6.1', ['pass', 'skip', 'pass']),
      report('6.1.0-27-amd64', 'linux-6.18', ['fail', 'skip', 'crash']),
      report('6.18.44', 'linux-6.1', ['fail', 'fail', 'timeout']),
      report('6.18.44', 'linux-6.18', ['pass', 'error', 'pass']),
    ]);
    expect(c.kernels).toEqual(['6.1.0-27-amd64', '6.18.44']);
    expect(c.profiles).toEqual(['linux-6.1', 'linux-6.18']);
    expect(c.failed).toEqual({
      'linux-6.1': { '6.1.0-27-amd64': 0, '6.18.44': 3 },
      'linux-6.18': { '6.1.0-27-amd64': 2, '6.18.44': 1 },
    });
    expect(formatConfusion(c)).toBe(
      [
        '| profile \\ kernel | 6.1.0-27-amd64 | 6.18.44 |',
        '|---|---:|---:|',
        '| linux-6.1 | 0 (1 skip) | 3 (0 skip) |',
        '| linux-6.18 | 2 (1 skip) | 1 (0 skip) |',
      ].join('\n'),
    );
  });
});
