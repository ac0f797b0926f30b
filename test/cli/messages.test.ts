/** Help and error texts that must say what is true. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

describe('messages', () => {
  it('explain does not blame --layout when none was given', () => {
    const r = spawnSync(
      process.execPath,
      [
        path.join(root, 'dist/cli/main.js'),
        'explain',
        '--old',
        '0x1000',
        '--new',
        '0x2000000',
        '--len',
        '0x1000',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'explain: the default layout [--old, --old + --len) = [0x1000, 0x2000) cannot be mapped (EPERM)',
    );
    expect(r.stderr).not.toContain('--layout:');
  });
});
