import { describe, expect, it } from 'vitest';
import { perKernelFile } from '../../src/cli/bench-kernels.js';

describe('bench --kernel results files', () => {
  it('one file per kernel beside the --out name, the kernel name made file-safe', () => {
    expect(perKernelFile('/r/quick.jsonl', 'debian:6.1')).toBe('/r/quick-debian_6.1.jsonl');
    expect(perKernelFile('/r/quick.jsonl', 'host')).toBe('/r/quick-host.jsonl');
    expect(perKernelFile('/r/ab', '/k/arch/x86/boot/bzImage')).toBe(
      '/r/ab-_k_arch_x86_boot_bzImage.jsonl',
    );
  });
});
