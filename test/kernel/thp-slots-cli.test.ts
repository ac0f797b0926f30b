/**
 * The THP scenarios of the built-in suite pass when THP slots are read without PAGEMAP_SCAN
 * (per-slot smaps/kpageflags, as on 6.1): validate spawned with MREMAP_LAB_NO_PAGEMAP_SCAN=1.
 * The slot reading itself is tested in process: thp-slots.test.ts.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probe } from '../../src/kernel/probe.js';

const P = probe();
const THP_ON = P.thp.enabled === 'always' || P.thp.enabled === 'madvise';

describe.skipIf(!THP_ON)(
  `the THP scenarios observed as on 6.1${THP_ON ? '' : ' (skipped: THP is off)'}`,
  () => {
    it('pass with MREMAP_LAB_NO_PAGEMAP_SCAN=1 (per-slot smaps/kpageflags instead of the ioctl)', () => {
      const r = spawnSync(
        process.execPath,
        [path.resolve('dist/cli/main.js'), 'validate', '--filter', 'thp', '--format', 'json'],
        { encoding: 'utf8', env: { ...process.env, MREMAP_LAB_NO_PAGEMAP_SCAN: '1' } },
      );
      const rep = JSON.parse(r.stdout) as { results: { id: string; status: string }[] };
      const ran = rep.results.filter((x) => x.status !== 'skip');
      expect(ran.length).toBeGreaterThanOrEqual(5);
      expect(ran.filter((x) => x.status !== 'pass').map((x) => x.id)).toEqual([]);
      expect(r.status).toBe(0);
    });
  },
);
