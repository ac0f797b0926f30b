/**
 * One real guest boot (10–60 s under TCG), run only where QEMU, a static busybox and a
 * cached Debian kernel are present: npm test never downloads a kernel. CI fetches the
 * kernels after npm test and runs validate in both guests, which covers the rest.
 */
import { describe, expect, it } from 'vitest';
import { listCached } from '../../src/vm/cache.js';
import { releaseFamily } from '../../src/vm/debian.js';
import { findTool, staticBusybox } from '../../src/vm/tools.js';
import { runCli } from './run-cli.js';

function bootable(): { kernel: string; release: string } | string {
  try {
    findTool('qemu-system-x86_64');
    staticBusybox();
  } catch (e) {
    return (e as Error).message;
  }
  const k = listCached()
    .filter((c) => c.source === 'debian')
    .pop();
  if (!k) return 'no Debian kernel cached (mremap-lab kernel fetch debian:6.12)';
  return { kernel: `debian:${releaseFamily(k.release)}`, release: k.release };
}

describe('a real guest', () => {
  const target = bootable();
  if (typeof target === 'string') console.log(`guest boot test skipped: ${target}`);

  it.skipIf(typeof target === 'string')(
    'vm -- probe --json streams the guest probe: its release, and the accelerator',
    () => {
      const t = target as { kernel: string; release: string };
      const r = runCli(
        ['vm', '--kernel', t.kernel, '--timeout', '200s', '--', 'probe', '--json'],
        {},
        230_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const p = JSON.parse(r.stdout) as {
        release: string;
        accel: string;
        config: { source: string };
      };
      expect(p.release).toBe(t.release);
      expect(['kvm', 'tcg']).toContain(p.accel);
      // Debian kernels have no /proc/config.gz: the guest /init put the image's config here.
      expect(p.config.source).toBe(`/boot/config-${t.release}`);
    },
    240_000,
  );
});
