import { describe, expect, test } from 'vitest';
import { MADV, MREMAP } from '../../src/space/constants.js';
import type { ModelSpace } from '../../src/model/address-space.js';
import { pickProfile } from '../../src/model/profiles.js';
import { P, RW, SHARED_ANON, anon, code, fill, layout, space, value } from './helpers.js';

const B = 0x10000000n;
const F = 0x20000000n;
const { MAYMOVE, FIXED } = MREMAP;
const RELOCATE = 8n;
const MUST = 16n;
const mv = (s: ModelSpace, addr: bigint, len: bigint, to: bigint, flags: bigint) =>
  s.remap({ addr, oldLen: len, newLen: len, flags, newAddr: to });

describe('fork — dup_mmap / anon_vma_fork / CoW', () => {
  test('child shares frames until written; the writer gets a new frame (do_wp_page)', () => {
    const s = space();
    anon(s, B, 2);
    fill(s, B, 2);
    const child = s.forkSpace();
    const frame = (x: ModelSpace, a: bigint) => x.snapshot(a, a + P).pages[0]!.frame;
    expect(frame(child, B)).toBe(frame(s, B));
    value(s.touch(B, 99n));
    expect(frame(child, B)).not.toBe(frame(s, B));
    expect(value(child.read(B))).toBe(B);
    expect(value(s.read(B))).toBe(99n);
    // The child's page is now exclusive: written in place, frame kept.
    const f = frame(child, B);
    value(child.touch(B, 7n));
    expect(frame(child, B)).toBe(f);
  });

  test('unfaulted VMAs have no PTEs copied; DONTFORK VMAs are absent in the child', () => {
    const s = space();
    anon(s, B, 2);
    value(s.read(B)); // zero page, no anon_vma
    anon(s, F, 2);
    value(s.advise(F, 2n * P, MADV.DONTFORK));
    const child = s.forkSpace();
    expect(layout(child)).toEqual(['10000000-10002000']);
    expect(child.snapshot(B, B + P).pages[0]!.present).toBe(false);
  });

  test('vma_is_fork_child: in the child a faulted VMA does not merge with an unfaulted neighbour (case 1)', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    const child = s.forkSpace();
    anon(child, B + 4n * P, 4, RW | 4);
    value(child.protect(B + 4n * P, 4n * P, RW));
    expect(layout(child)).toEqual(['10000000-10004000', '10004000-10008000']);
  });

  test('copied_from (Jan-2026, 6.18.y): a fork-child VMA moved next to an unfaulted neighbour does not merge; 6.17 merges', () => {
    for (const [p, n] of [
      ['linux-6.18', 2],
      ['linux-6.17', 1],
    ] as const) {
      const s = space(p);
      anon(s, B, 4);
      fill(s, B, 4);
      const child = s.forkSpace();
      value(mv(child, B, 4n * P, F, MAYMOVE | FIXED));
      anon(child, B - 4n * P, 4);
      value(mv(child, F, 4n * P, B, MAYMOVE | FIXED));
      expect(layout(child).length).toBe(n);
    }
  });

  test('fork()/child()/release(): the parent anon_vma num_children drops on release', () => {
    const s = space();
    anon(s, B, 2);
    fill(s, B, 2);
    const id = value(s.fork());
    const av = s.vmas()[0]!.anonVma!;
    expect(av.numChildren).toBe(2);
    expect(value(s.child(id)!.read(B + P))).toBe(B + P);
    value(s.release(id));
    expect(av.numChildren).toBe(1);
    expect(code(s.release(id))).toBe('ESRCH');
  });
});

describe('MREMAP_RELOCATE_ANON (relocate-anon-rfc, Appendix B)', () => {
  test('stock 6.18 rejects bits 8 and 16 with EINVAL', () => {
    const s = space();
    anon(s, B, 1);
    expect(code(mv(s, B, P, F, MAYMOVE | FIXED | RELOCATE))).toBe('EINVAL');
  });

  test('check_mremap_params: either bit without MAYMOVE → EINVAL, right after the new_len check', () => {
    const s = space('relocate-anon-rfc');
    anon(s, B, 1);
    expect(code(mv(s, B, P, F, RELOCATE))).toBe('EINVAL');
    expect(code(mv(s, B, P, F, MUST))).toBe('EINVAL');
    expect(s.lastTrace.entries.at(-1)!.step).toBe(
      'check_mremap_params: RELOCATE_ANON without MAYMOVE',
    );
  });

  test('relocated faulted VMA gets pgoff = new_addr/PS and a fresh anon_vma, then merges (existing range)', () => {
    const s = space('relocate-anon-rfc');
    anon(s, B, 4);
    fill(s, B, 4);
    const oldAv = s.vmas()[0]!.anonVma;
    anon(s, F - 4n * P, 4);
    value(mv(s, B, 4n * P, F, MAYMOVE | FIXED | MUST));
    expect(layout(s)).toEqual(['1fffc000-20004000']);
    const v = s.vmas()[0]!;
    expect(v.pgoff).toBe(Number((F - 4n * P) / P));
    expect(v.anonVma).not.toBe(oldAv);
    expect(value(s.read(F + 3n * P))).toBe(B + 3n * P);
  });

  test('without the flag the same faulted move keeps pgoff and does not merge', () => {
    const s = space('relocate-anon-rfc');
    anon(s, B, 4);
    fill(s, B, 4);
    anon(s, F - 4n * P, 4);
    value(mv(s, B, 4n * P, F, MAYMOVE | FIXED));
    expect(layout(s).length).toBe(2);
  });

  test('ordinary merge is tried first and wins (relocation cancelled)', () => {
    const s = space('relocate-anon-rfc');
    anon(s, B, 8);
    fill(s, B, 8);
    value(mv(s, B + 4n * P, 4n * P, F, MAYMOVE | FIXED));
    value(mv(s, F, 4n * P, B + 4n * P, MAYMOVE | FIXED | MUST));
    expect(layout(s)).toEqual(['10000000-10008000']);
    expect(s.lastTrace.entries.map((e) => e.step)).toContain(
      'copy_vma: ordinary merge succeeded, relocation cancelled',
    );
  });

  test('non-anonymous (shmem): RELOCATE falls back to a normal move; MUST → EFAULT, nothing changed', () => {
    const s = space('relocate-anon-rfc');
    value(s.map({ addr: B, length: 2n * P, prot: RW, flags: SHARED_ANON }));
    value(s.touch(B, 5n));
    expect(code(mv(s, B, 2n * P, F, MAYMOVE | FIXED | MUST))).toBe('EFAULT');
    expect(layout(s)).toEqual(['10000000-10002000']);
    expect(value(s.read(B))).toBe(5n);
    expect(value(mv(s, B, 2n * P, F, MAYMOVE | FIXED | RELOCATE))).toBe(F);
    expect(value(s.read(F))).toBe(5n);
  });

  test('fork-shared anon_vma: MUST → EFAULT while the child lives; succeeds after release', () => {
    const s = space('relocate-anon-rfc');
    anon(s, B, 4);
    fill(s, B, 4);
    const id = value(s.fork());
    expect(code(mv(s, B, 4n * P, F, MAYMOVE | FIXED | MUST))).toBe('EFAULT');
    expect(code(mv(s.child(id)!, B, 4n * P, F, MAYMOVE | FIXED | MUST))).toBe('EFAULT');
    value(s.release(id));
    expect(value(mv(s, B, 4n * P, F, MAYMOVE | FIXED | MUST))).toBe(F);
    expect(s.vmas()[0]!.pgoff).toBe(Number(F / P));
  });

  test('unfaulted range under MUST is a success (normal move resets pgoff anyway)', () => {
    const s = space('relocate-anon-rfc');
    anon(s, B, 4);
    expect(value(mv(s, B, 4n * P, F, MAYMOVE | FIXED | MUST))).toBe(F);
  });

  test('no-op, shrink and in-place growth ignore the flags (even MUST on shmem)', () => {
    const s = space('relocate-anon-rfc');
    value(s.map({ addr: B, length: 4n * P, prot: RW, flags: SHARED_ANON }));
    expect(
      code(
        s.remap({ addr: B, oldLen: 4n * P, newLen: 2n * P, flags: MAYMOVE | MUST, newAddr: 0n }),
      ),
    ).toBe('ok');
    expect(
      code(
        s.remap({ addr: B, oldLen: 2n * P, newLen: 2n * P, flags: MAYMOVE | MUST, newAddr: 0n }),
      ),
    ).toBe('ok');
  });

  test('flag values are profile settings (a revised series can use other bits)', () => {
    const picked = pickProfile({ release: '6.15.0-rc3+', acceptedFlagBits: [8, 16] });
    expect(picked.profile.relocateAnon).toEqual({ relocate: 8n, must: 16n });
    expect(picked.reason).toContain('RELOCATE_ANON');
  });
});

describe('pickProfile (auto)', () => {
  test.each([
    ['6.18.44', 'linux-6.18'],
    ['6.17.2', 'linux-6.17'],
    ['6.16.1', 'linux-6.16'],
    ['6.12.40', 'linux-6.12'],
    ['6.7.0', 'linux-6.7'],
    ['6.6.14', 'linux-6.6'],
    ['6.1.0-27-amd64', 'linux-6.1'],
  ])('release %s → %s', (release, name) => {
    expect(pickProfile({ release }).profile.name).toBe(name);
  });

  test('probe facts override the release guess, with a reason', () => {
    const p = pickProfile({ release: '6.17.0', dontunmapKeepsAccount: true });
    expect(p.profile.dontunmapClearsAccount).toBe(false);
    expect(p.reason).toContain('keeps VM_ACCOUNT');
  });
});
