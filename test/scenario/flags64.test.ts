/**
 * mremap flags above bit 31, which JavaScript's 32-bit `|` used to cut: every spelling of a
 * scenario's flags reaches the kernel and the model as the same 64-bit word.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/schema.js';
import { describeStep } from '../../src/scenario/steps/describe.js';
import { parseFlags } from '../../src/scenario/steps/fields.js';
import { exportC } from '../../src/scenario/export-c.js';
import { err } from '../../src/space/result.js';
import type { RunReport } from '../../src/scenario/report/types.js';
import { good, problem } from './validation-helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');

describe('mremap flags are the full unsigned long', () => {
  it('parses every spelling to the same 64-bit word', () => {
    expect(parseFlags([4294967299], 'f')).toBe(0x100000003n);
    expect(parseFlags('0x100000003', 'f')).toBe(0x100000003n);
    expect(parseFlags('MAYMOVE|FIXED|0x100000000', 'f')).toBe(0x100000003n);
    expect(parseFlags(['MREMAP_MAYMOVE', 'FIXED', '0x8000000000000000'], 'f')).toBe(
      (1n << 63n) | 3n,
    );
    expect(parseFlags(2147483651, 'f')).toBe(0x80000003n);
    // Every scenario file valid before keeps its meaning.
    expect(parseFlags(['MAYMOVE', 'FIXED', 8], 'f')).toBe(11n);
    expect(parseFlags(undefined, 'f')).toBe(0n);
  });

  it('refuses what is not a 64-bit word, naming the item', () => {
    const mremap = (flags: unknown) => ({
      ...good,
      steps: [{ op: 'mremap', at: '@0', oldLen: 1, newLen: 1, flags }],
    });
    expect(problem(mremap(['MAYMOVE', 2 ** 60]))).toEqual([
      '$.steps[0].flags[1]',
      expect.stringContaining('"0x..." string'),
    ]);
    expect(problem(mremap('0x10000000000000000'))).toEqual([
      '$.steps[0].flags',
      expect.stringContaining('do not fit in 64 bits'),
    ]);
    expect(problem(mremap({ a: 1 }))[0]).toBe('$.steps[0].flags');
    expect(problem(mremap([-1]))[0]).toBe('$.steps[0].flags[0]');
  });

  it('describes a step with the bits the kernel gets', () => {
    expect(
      describeStep({ op: 'mremap', at: 'a', oldLen: 1, newLen: 1, flags: [4294967299], to: '@8' }),
    ).toBe('mremap(a, 1 page, 1 page, MAYMOVE|FIXED|0x100000000, @8)');
  });

  it('kernel and model both answer EINVAL for bits 31, 32 and 63 (not a move)', () => {
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'validate',
        '--suite',
        path.join(root, 'test/fixtures/scenarios/flags64'),
        '--format',
        'json',
      ],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
    );
    const rep = JSON.parse(r.stdout) as Pick<RunReport, 'results'>;
    expect(rep.results.map((x) => [x.id, x.status, x.steps])).toEqual([
      ['fixture-flags-bit32', 'pass', 7],
    ]);
    expect(r.status).toBe(0);
  });
});

describe('the C reproducer', () => {
  it('passes the whole 64-bit word to syscall(SYS_mremap, …)', () => {
    const sc = validateScenario(
      JSON.parse(
        fs.readFileSync(
          path.join(root, 'test/fixtures/scenarios/flags64/flags-bit32.json'),
          'utf8',
        ),
      ),
    );
    const start = 0x1000_0000_0000n;
    const snap = { start, end: start + 16n * 4096n, vmas: [], pages: [] };
    const c = exportC({
      scenario: sc,
      model: sc.steps.map(() => ({ result: err(22), snapshot: snap })),
      arenaStart: start,
    });
    expect(c).toContain('0x100000003UL');
    expect(c).toContain('0x80000003UL');
    expect(c).toContain('0x8000000000000003UL');
  });
});
