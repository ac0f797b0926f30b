/**
 * The whole built-in suite on the real kernel and on the model (profile auto): every
 * scenario passes or is a SKIP with a reason. A divergence here is a real finding: fix the
 * model (or document a kernel bug); never drop or loosen the scenario.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/scenario/report/types.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('built-in suite', () => {
  it('passes on this kernel (or skips with a reason)', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'dist/cli/main.js'), 'validate', '--format', 'json'],
      {
        encoding: 'utf8',
        timeout: 300_000,
        maxBuffer: 64 << 20,
      },
    );
    expect(r.stderr).toBe('');
    const results = (JSON.parse(r.stdout) as RunReport).results;
    expect(results.length).toBeGreaterThanOrEqual(2);
    const bad = results
      .filter((x) => x.status !== 'pass' && x.status !== 'skip')
      .map(
        (x) =>
          `${x.id}: ${x.status} ${x.reason ?? ''} ${x.divergence?.differences.join('; ') ?? ''} ${x.expectationFailures?.map((f) => f.message).join('; ') ?? ''}`,
      );
    expect(bad).toEqual([]);
    for (const s of results.filter((x) => x.status === 'skip'))
      expect(s.reason, s.id).toMatch(/\S/);
    expect(r.status).toBe(0);
  });
});
