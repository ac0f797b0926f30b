import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { ModelSpace } from '../../src/model/address-space.js';
import { wouldMergeAdjacent } from '../../src/model/merge.js';
import { MADV, MREMAP } from '../../src/space/constants.js';
import { ANON, P, space } from './helpers.js';

const BASE = 0x40000000n;
const PAGES = 64;
const page = fc.integer({ min: 0, max: PAGES - 1 });
const npages = fc.integer({ min: 1, max: 16 });
const prot = fc.constantFrom(0, 1, 3, 7);

type Op =
  | { k: 'map'; at: number; n: number; prot: number }
  | { k: 'unmap'; at: number; n: number }
  | { k: 'protect'; at: number; n: number; prot: number }
  | { k: 'touch'; at: number }
  | { k: 'remap'; at: number; n: number; m: number; flags: bigint; to: number }
  | { k: 'lock'; at: number; n: number }
  | { k: 'advise'; at: number; n: number; advice: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('map' as const), at: page, n: npages, prot }),
  fc.record({ k: fc.constant('unmap' as const), at: page, n: npages }),
  fc.record({ k: fc.constant('protect' as const), at: page, n: npages, prot }),
  fc.record({ k: fc.constant('touch' as const), at: page }),
  fc.record({
    k: fc.constant('remap' as const),
    at: page,
    n: fc.integer({ min: 0, max: 16 }),
    m: npages,
    flags: fc.constantFrom(0n, 1n, 3n, 5n, 7n, 2n, 8n),
    to: page,
  }),
  fc.record({ k: fc.constant('lock' as const), at: page, n: npages }),
  fc.record({
    k: fc.constant('advise' as const),
    at: page,
    n: npages,
    advice: fc.constantFrom(
      MADV.DONTNEED,
      MADV.HUGEPAGE,
      MADV.NOHUGEPAGE,
      MADV.DONTFORK,
      MADV.DOFORK,
    ),
  }),
);

const A = (p: number): bigint => BASE + BigInt(p) * P;

function apply(s: ModelSpace, op: Op): { ok: boolean; code?: string } {
  let r;
  switch (op.k) {
    case 'map':
      r = s.map({ addr: A(op.at), length: BigInt(op.n) * P, prot: op.prot, flags: ANON });
      break;
    case 'unmap':
      r = s.unmap(A(op.at), BigInt(op.n) * P);
      break;
    case 'protect':
      r = s.protect(A(op.at), BigInt(op.n) * P, op.prot);
      break;
    case 'touch':
      r = s.touch(A(op.at), A(op.at));
      break;
    case 'remap':
      r = s.remap({
        addr: A(op.at),
        oldLen: BigInt(op.n) * P,
        newLen: BigInt((op.flags & MREMAP.DONTUNMAP) !== 0n ? op.n : op.m) * P,
        flags: op.flags,
        newAddr: A(op.to) + 0x10000000n * BigInt(op.to % 2),
      });
      break;
    case 'lock':
      r = s.lock(A(op.at), BigInt(op.n) * P, 0);
      break;
    case 'advise':
      r = s.advise(A(op.at), BigInt(op.n) * P, op.advice);
      break;
  }
  return r.ok ? { ok: true } : { ok: false, code: r.code };
}

function checkInvariants(s: ModelSpace): void {
  const vmas = s.vmas();
  expect(vmas.length).toBe(s.mapCount);
  let prevEnd = -1;
  for (const [i, v] of vmas.entries()) {
    expect(v.start % 4096).toBe(0);
    expect(v.end % 4096).toBe(0);
    expect(v.start).toBeLessThan(v.end);
    expect(v.start).toBeGreaterThanOrEqual(prevEnd);
    expect(v.prev).toBe(i === 0 ? null : vmas[i - 1]);
    expect(s.tree.lookup(v.start)).toBe(v);
    expect(s.tree.lookup(v.end - 1)).toBe(v);
    prevEnd = v.end;
  }
  for (const pn of s.ptes.keys()) expect(s.tree.lookup(pn * 4096)).not.toBeNull();
}

const window = (s: ModelSpace) =>
  s.snapshot(BASE, BASE + 0x20000000n, { pages: false, vmFlags: true });

describe('properties (fast-check)', () => {
  test('VMAs never overlap, are page aligned and sorted; PTEs lie inside VMAs', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 40 }),
        fc.constantFrom('linux-6.1', 'linux-6.16', 'linux-6.18'),
        (ops, p) => {
          const s = space(p);
          for (const op of ops) {
            apply(s, op);
            checkInvariants(s);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('after mmap/mprotect only (unfaulted), no two adjacent VMAs are mergeable by the model predicate', () => {
    const mapOrProtect = fc.oneof(
      fc.record({ k: fc.constant('map' as const), at: page, n: npages, prot }),
      fc.record({ k: fc.constant('protect' as const), at: page, n: npages, prot }),
    );
    fc.assert(
      fc.property(
        fc.array(mapOrProtect, { maxLength: 30 }),
        fc.constantFrom('linux-6.6', 'linux-6.18'),
        (ops, p) => {
          const s = space(p);
          for (const op of ops) apply(s, op);
          const vmas = s.vmas();
          for (let i = 1; i < vmas.length; i++) {
            expect(wouldMergeAdjacent(s.profile, vmas[i - 1]!, vmas[i]!)).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a mremap that fails with EINVAL/EFAULT (validation) changes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 25 }),
        fc.record({
          at: page,
          n: fc.integer({ min: 0, max: 16 }),
          m: fc.integer({ min: 0, max: 16 }),
          // The whole unsigned long: a bit above 31 must not leave a trace either.
          flags: fc.oneof(
            fc.bigInt({ min: 0n, max: 31n }),
            fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          ),
          to: page,
          odd: fc.boolean(),
        }),
        (ops, c) => {
          const s = space();
          for (const op of ops) apply(s, op);
          const before = window(s);
          const pagesBefore = s.snapshot(BASE, BASE + BigInt(PAGES) * P);
          const r = s.remap({
            addr: A(c.at) + (c.odd ? 1n : 0n),
            oldLen: BigInt(c.n) * P,
            newLen: BigInt(c.m) * P,
            flags: c.flags,
            newAddr: A(c.to),
          });
          if (!r.ok && (r.code === 'EINVAL' || r.code === 'EFAULT')) {
            expect(window(s)).toEqual(before);
            expect(s.snapshot(BASE, BASE + BigInt(PAGES) * P)).toEqual(pagesBefore);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a successful move preserves data: every written tag is readable at its new address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 600 }), (n, dst) => {
        const s = space();
        s.map({ addr: BASE, length: BigInt(n) * P, prot: 3, flags: ANON });
        for (let i = 0; i < n; i++) s.touch(A(i), A(i));
        const to = 0x80000000n + BigInt(dst) * P;
        const r = s.remap({
          addr: BASE,
          oldLen: BigInt(n) * P,
          newLen: BigInt(n) * P,
          flags: 3n,
          newAddr: to,
        });
        expect(r).toEqual({ ok: true, value: to });
        for (let i = 0; i < n; i++)
          expect(s.read(to + BigInt(i) * P)).toEqual({ ok: true, value: A(i) });
      }),
      { numRuns: 200 },
    );
  });
});
