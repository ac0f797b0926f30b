/** native/load.cc: a real load in a forked child tells SIGSEGV from SIGBUS, and changes nothing here. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { KernelSpace } from '../../src/kernel/kernel-space.js';
import { parseStackGuardGap } from '../../src/kernel/stack-guard.js';
import { MAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

const RW = PROT.READ | PROT.WRITE;
const P = PAGE_SIZE;

let arena: Arena;
let k: KernelSpace;
beforeEach(() => {
  arena = Arena.reserve({ size: 32n * P, interior: 'empty' });
  k = new KernelSpace(arena);
});
afterEach(() => {
  k.dispose();
  arena.release();
});

const ok = <T>(r: { ok: true; value: T } | { ok: false; code: string }): T => {
  if (!r.ok) throw new Error(r.code);
  return r.value;
};

describe('KernelSpace.load', () => {
  it('hole SEGV_MAPERR, PROT_NONE SEGV_ACCERR, memfd past EOF BUS_ADRERR, data otherwise', () => {
    const a = arena.page(4);
    ok(
      k.map({ addr: a, length: 2n * P, prot: RW, flags: MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED }),
    );
    ok(k.touch(a, 0x1234n));
    ok(k.protect(a + P, P, PROT.NONE));
    expect(ok(k.load(a))).toEqual({ signal: null, value: 0x1234n });
    expect(ok(k.load(a + P))).toEqual({ signal: 'SIGSEGV', code: 'SEGV_ACCERR' });
    expect(ok(k.load(arena.page(10)))).toEqual({ signal: 'SIGSEGV', code: 'SEGV_MAPERR' });
    const f = ok(k.memfd(P));
    const m = arena.page(12);
    ok(k.map({ addr: m, length: 2n * P, prot: RW, flags: MAP.SHARED | MAP.FIXED, file: f }));
    expect(ok(k.load(m + P))).toEqual({ signal: 'SIGBUS', code: 'BUS_ADRERR' });
  });

  it('the load faults nothing in here, and inside a fork child too', () => {
    const a = arena.page(2);
    ok(k.map({ addr: a, length: P, prot: RW, flags: MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED }));
    expect(ok(k.load(a)).signal).toBeNull();
    expect(k.snapshot(a, a + P).pages[0]!.present).toBe(false);
    const c = ok(k.fork());
    const cs = k.forkSpace(c);
    expect(ok(cs.load(a)).signal).toBeNull();
    expect(ok(cs.load(arena.page(20)))).toEqual({ signal: 'SIGSEGV', code: 'SEGV_MAPERR' });
    expect(cs.snapshot(a, a + P).pages[0]!.present).toBe(false);
    ok(k.release(c));
  });
});

describe('MAP_GROWSDOWN on this kernel', () => {
  it('PROT_GROWSUP is EINVAL on x86 (no VM_GROWSUP), both grows bits before the alignment check', () => {
    const g = arena.page(8);
    const flags = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED | MAP.GROWSDOWN;
    ok(k.map({ addr: g, length: 2n * P, prot: RW, flags }));
    const r1 = k.protect(g, P, PROT.READ | 0x02000000);
    expect(r1.ok ? 'ok' : r1.code).toBe('EINVAL');
    const r2 = k.protect(g + 1n, P, PROT.READ | 0x03000000);
    expect(r2.ok ? 'ok' : r2.code).toBe('EINVAL');
    const r3 = k.protect(g + P, P, PROT.READ | 0x01000000);
    expect(r3.ok).toBe(true);
    expect(k.snapshot(g, g + 2n * P).vmas.map((v) => v.prot)).toEqual(['r--']);
  });
});

describe('stack_guard_gap from the command line', () => {
  it('defaults to 256 pages; the last setting before "--" wins', () => {
    expect(parseStackGuardGap('quiet root=/dev/vda')).toBe(256);
    expect(parseStackGuardGap('stack_guard_gap=1 x stack_guard_gap=64 -- stack_guard_gap=9')).toBe(
      64,
    );
  });
});
