/**
 * Differential fuzzing on the real kernel: a fixed-seed run under `auto` finds nothing (a
 * failure here is a real model or kernel finding, printed in full, never a reason to weaken
 * the comparison); a deliberately wrong profile is caught, shrunk to a handful of steps, and
 * the emitted files work (the JSON in validate, the C program with the system compiler).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { probe, type ProbeResult } from '../../src/kernel/probe.js';
import { getProfile } from '../../src/model/profiles.js';
import { resolveProfile, traitsFromProbe } from '../../src/scenario/model-config.js';
import { DEFAULT_WEIGHTS, opsArbitrary, realize } from '../../src/scenario/fuzz/gen.js';
import { runFuzz } from '../../src/scenario/fuzz/driver.js';
import { failureText, stepsText, writeCase } from '../../src/scenario/fuzz/output.js';
import { validateScenario } from '../../src/scenario/schema.js';
import fc from 'fast-check';
import { before617, cli } from './helpers.js';

let p: ProbeResult;
beforeAll(() => {
  p = probe();
});

describe('generator', () => {
  it('realizes the same ops to the same valid, arena-relative steps', () => {
    const profile = getProfile('linux-6.18');
    const samples = fc.sample(opsArbitrary(DEFAULT_WEIGHTS, 30), { seed: 42, numRuns: 50 });
    for (const ops of samples) {
      const a = realize(ops, { probe: p, profile, pages: 64 });
      const b = realize(ops, { probe: p, profile, pages: 64 });
      expect(b).toEqual(a);
      const sc = {
        id: 'gen',
        title: 't',
        source: 's',
        arena: { pages: 64 },
        steps: a,
      };
      expect(() => validateScenario(JSON.parse(JSON.stringify(sc)))).not.toThrow();
    }
  });
});

describe('fuzz on the real kernel', () => {
  it('a fixed seed under the auto profile finds no divergence', async () => {
    const { profile } = resolveProfile('auto', p);
    // Seed 1: the first seed tried; its op counts are checked below for breadth.
    const r = await runFuzz({
      probe: p,
      profile,
      pages: 64,
      seed: 1,
      runs: 150,
      opsPerRun: 40,
      weights: DEFAULT_WEIGHTS,
      shrinkTimeMs: 10_000,
    });
    expect(r.errors, r.firstError).toBe(0);
    const found = r.found;
    // A divergence is a real finding: show it whole.
    expect(
      found,
      found && `${stepsText(found.steps, found.failure.step)}\n${failureText(found.failure)}`,
    ).toBeUndefined();
    const ops = ['map', 'mremap', 'munmap', 'mprotect', 'madvise', 'touch', 'fork', 'mlock'];
    // Seals run in fork-continue children; uffd registration only in the parent.
    if (p.mseal) ops.push('mseal', 'fork-continue');
    if (p.userfaultfd) ops.push('uffd');
    for (const op of [...ops, 'munlock']) expect(r.opCounts[op] ?? 0, op).toBeGreaterThan(0);
  });

  it('a wrong zeroPage trait is found and shrunk to one read after one map', async () => {
    const traits = traitsFromProbe(p);
    const r = await runFuzz({
      probe: p,
      profile: resolveProfile('auto', p).profile,
      traits: { ...traits, zeroPage: !traits.zeroPage, hugeZeroPage: false },
      pages: 64,
      seed: 11,
      runs: 200,
      opsPerRun: 20,
      weights: { ...DEFAULT_WEIGHTS, read: 6 },
      shrinkTimeMs: 15_000,
    });
    const f = r.found;
    expect(f).toBeDefined();
    expect(f!.steps.map((s) => s.op)).toEqual(['map', 'read']);
    expect(f!.failure.step).toBe(1);
    expect(f!.failure.differences.join('\n')).toContain(
      `zero page kernel ${traits.zeroPage}, model ${!traits.zeroPage}`,
    );
  });

  it.skipIf(before617)(
    `catches a wrong profile, shrinks it, and writes a JSON, a report and a C program that reproduce it${before617 ? ' (skipped: linux-6.6 is right on this kernel)' : ''}`,
    async () => {
      const r = await runFuzz({
        probe: p,
        profile: getProfile('linux-6.6'),
        pages: 64,
        seed: 7,
        runs: 300,
        opsPerRun: 40,
        weights: DEFAULT_WEIGHTS,
        shrinkTimeMs: 15_000,
      });
      const f = r.found!;
      expect(f).toBeDefined();
      expect(f.steps.length).toBeLessThanOrEqual(5);
      expect(f.deterministic).toBe(true);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-fuzz-'));
      try {
        const sc = {
          id: 'fuzz-test-case',
          title: 'fuzz test',
          source: 'test/fuzz',
          arena: { pages: 64, align: '2M' },
          steps: f.steps,
        };
        const files = writeCase(dir, sc, f.outcome, ['test']);
        const json = JSON.parse(fs.readFileSync(files.json, 'utf8')) as unknown;
        expect(() => validateScenario(json)).not.toThrow();
        expect(fs.readFileSync(files.report, 'utf8')).toContain("Model's decision path");
        execFileSync('cc', ['-o', path.join(dir, 'repro'), files.c]);
        const run = spawnSync(path.join(dir, 'repro'), { encoding: 'utf8' });
        expect(run.status, run.stdout).toBe(1);
        expect(run.stdout).toContain('MISMATCH');
        const v = cli([
          'validate',
          '--suite',
          files.json,
          '--profile',
          'linux-6.6',
          '--format',
          'json',
        ]);
        expect(v.code).toBe(1);
        const rep = JSON.parse(v.stdout) as { results: { status: string; divergence?: unknown }[] };
        expect(rep.results[0]!.status).toBe('fail');
        expect(rep.results[0]!.divergence).toBeDefined();
        // Under the right profile the same case passes: the divergence is the profile's.
        const ok = cli(['validate', '--suite', files.json, '--format', 'json']);
        expect(
          (JSON.parse(ok.stdout) as { results: { status: string }[] }).results[0]!.status,
        ).toBe('pass');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
