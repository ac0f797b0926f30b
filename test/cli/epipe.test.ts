/**
 * A reader that closes the pipe early (`mremap-lab maps --json | head -c 10`) ends the command
 * quietly with its own status, as `cat` does, instead of an unhandled EPIPE stack trace.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = path.resolve(import.meta.dirname, '../../dist/cli/main.js');

describe('a closed stdout', () => {
  it('maps --json | head -c 10: exit 0, nothing on stderr', () => {
    // maps --json of a Node process is ~70 KB, more than a pipe buffer holds, so the
    // writer meets EPIPE once head has gone.
    const r = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${bin}" maps --json | head -c 10 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stdout.trim()).toBe('rc=0');
    expect(r.stderr).toBe('');
  });
});
