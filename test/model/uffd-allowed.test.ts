/**
 * fs/userfaultfd.c:userfaultfd_syscall_allowed, as the model applies it when a space's first
 * uffd step opens its userfaultfd: kernel faults need CAP_SYS_PTRACE or
 * vm.unprivileged_userfaultfd=1; user-mode-only faults are always allowed.
 */
import { describe, expect, test } from 'vitest';
import { P, anon, code, space } from './helpers.js';

const A = 0x10000000n;
const all = { kernelFaults: true };

describe('userfaultfd_syscall_allowed', () => {
  test('without CAP_SYS_PTRACE: EPERM for kernel faults unless the sysctl allows them', () => {
    const s = space('linux-6.18', { capSysPtrace: false });
    anon(s, A, 4);
    expect(code(s.uffdRegister(A, 2n * P, all))).toBe('EPERM');
    expect(code(s.uffdRegister(A, 2n * P))).toBe('ok');
    const t = space('linux-6.18', { capSysPtrace: false, unprivilegedUserfaultfd: true });
    anon(t, A, 4);
    expect(code(t.uffdRegister(A, 2n * P, all))).toBe('ok');
  });

  test('with CAP_SYS_PTRACE, or once the userfaultfd is open, no check', () => {
    const s = space();
    anon(s, A, 4);
    expect(code(s.uffdRegister(A, 2n * P, all))).toBe('ok');
    const t = space('linux-6.18', { capSysPtrace: false });
    anon(t, A, 4);
    expect(code(t.uffdRegister(A, P))).toBe('ok');
    expect(code(t.uffdRegister(A + P, P, all))).toBe('ok');
  });
});
