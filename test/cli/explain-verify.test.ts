/**
 * `explain --verify` on the running kernel: it says what it can verify per level, as
 * discoverTracer reads tracefs; without a tracer every level is "cannot verify" and the
 * exit is 0 (nothing differed). Inside a kernel that can trace (a vm guest) the same test
 * asserts the traced plan of Linus's example 1 against its model profile.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverTracer } from '../../src/kernel/trace/discover.js';
import { native } from '../../src/native.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const EX1 = ['--old', '0x1fff000', '--new', '0xfff000', '--len', '0x201000'];

describe('explain --verify', () => {
  it('--kernel without --verify is a usage error', () => {
    const r = cli('explain', ...EX1, '--kernel', 'debian:6.12');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('explain: --kernel needs --verify');
  });

  it('reports per level what this kernel lets it verify', () => {
    const status = discoverTracer(native.unameRelease());
    const r = cli('explain', ...EX1, '--profile', 'linux-6.6', '--verify', '--json');
    const out = JSON.parse(r.stdout) as {
      verify: {
        status: { problem: string | null };
        plans: { rows: { verdict: string; reason?: string }[] }[];
      };
    };
    expect(out.verify.status.problem).toBe(status.problem);
    const rows = out.verify.plans[0]!.rows;
    expect(rows).toHaveLength(8);
    if (status.problem !== null) {
      expect(r.code).toBe(0);
      expect(rows.every((x) => x.verdict === 'cannot verify' && x.reason === status.problem)).toBe(
        true,
      );
    } else {
      // A traceable kernel: no level of the 6.1-era plan may differ on a pre-6.7 kernel.
      expect(rows.filter((x) => x.verdict === 'differ')).toEqual([]);
      expect(r.code).toBe(0);
    }
  });
});
