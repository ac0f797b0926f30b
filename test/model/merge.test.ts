import { describe, expect, test } from 'vitest';
import { MADV, MREMAP, PROT } from '../../src/space/constants.js';
import type { ModelSpace } from '../../src/model/address-space.js';
import { P, RW, anon, fill, flagsAt, layout, space, value } from './helpers.js';

const B = 0x10000000n;
const F = 0x20000000n; // far away parking spot
const RWX = RW | PROT.EXEC;
const fixed = (s: ModelSpace, addr: bigint, len: bigint, to: bigint): bigint =>
  value(
    s.remap({ addr, oldLen: len, newLen: len, flags: MREMAP.MAYMOVE | MREMAP.FIXED, newAddr: to }),
  );
const vmas = (s: ModelSpace): number => layout(s).length;

/** Appendix A "Merges" (e2_merge, e12_reuse), expected VMA counts on linux-6.18. */
describe('VMA merges — Appendix A on linux-6.18', () => {
  test('vma_merge_new_range: adjacent unfaulted mmaps → 1', () => {
    const s = space();
    anon(s, B, 4);
    anon(s, B + 4n * P, 4);
    expect(layout(s)).toEqual(['10000000-10008000']);
  });

  test('vma_merge_new_range: faulted prev + new mmap → 1 (case 2: tgt faulted, src unfaulted)', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    anon(s, B + 4n * P, 4);
    expect(vmas(s)).toBe(1);
  });

  test('copy_vma: unfaulted moved next to unfaulted → 1 (pgoff = new_addr/PS)', () => {
    const s = space();
    anon(s, B, 4);
    anon(s, F, 4);
    fixed(s, F, 4n * P, B + 4n * P);
    expect(layout(s)).toEqual(['10000000-10008000']);
  });

  test('copy_vma: faulted moved back between unfaulted neighbours whose pgoff continues it → 1 (6.16+)', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    fixed(s, B, 4n * P, F);
    anon(s, B - 4n * P, 4);
    anon(s, B + 4n * P, 4);
    fixed(s, F, 4n * P, B);
    expect(layout(s)).toEqual(['fffc000-10008000']);
    expect(value(s.read(B + 3n * P))).toBe(B + 3n * P);
  });

  test('is_mergeable_anon_vma pre-6.16: the same faulted move back does not merge (tgt chain empty)', () => {
    const s = space('linux-6.6');
    anon(s, B, 4);
    fill(s, B, 4);
    fixed(s, B, 4n * P, F);
    anon(s, B - 4n * P, 4);
    anon(s, B + 4n * P, 4);
    fixed(s, F, 4n * P, B);
    expect(vmas(s)).toBe(3);
  });

  test('can_vma_merge_before: faulted next to unfaulted with pgoff mismatch → 2', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    anon(s, F + 4n * P, 4);
    fixed(s, B, 4n * P, F);
    expect(layout(s)).toEqual(['20000000-20004000', '20004000-20008000']);
  });

  test('is_mergeable_anon_vma case 3: different anon_vmas → 2', () => {
    const s = space();
    anon(s, B + 4n * P, 4);
    fill(s, B + 4n * P, 4);
    fixed(s, B + 4n * P, 4n * P, F);
    anon(s, B, 4);
    fill(s, B, 4);
    fixed(s, F, 4n * P, B + 4n * P);
    expect(vmas(s)).toBe(2);
  });

  test('split half moved away and back → 1 (same anon_vma, linear pgoff)', () => {
    const s = space();
    anon(s, B, 8);
    fill(s, B, 8);
    fixed(s, B + 4n * P, 4n * P, F);
    expect(vmas(s)).toBe(2);
    fixed(s, F, 4n * P, B + 4n * P);
    expect(layout(s)).toEqual(['10000000-10008000']);
  });

  test('mprotect_fixup: RW→R unfaulted drops VM_ACCOUNT and merges with a fresh R → 1', () => {
    const s = space();
    anon(s, B, 4);
    value(s.protect(B, 4n * P, PROT.READ));
    expect(flagsAt(s, B)).toEqual(['rd', 'mr', 'mw', 'me']);
    anon(s, B + 4n * P, 4, PROT.READ);
    expect(vmas(s)).toBe(1);
  });

  test('mprotect_fixup unaccounts unfaulted anon from 6.7 (merged Oct 2023), not on 6.1/6.6', () => {
    for (const [p, ac] of [
      ['linux-6.1', true],
      ['linux-6.6', true],
      ['linux-6.7', false],
      ['linux-6.12', false],
    ] as const) {
      const s = space(p);
      anon(s, B, 4);
      value(s.protect(B, 4n * P, PROT.READ));
      expect(flagsAt(s, B).includes('ac'), p).toBe(ac);
      anon(s, B + 4n * P, 4, PROT.READ);
      expect(vmas(s), p).toBe(ac ? 2 : 1);
    }
  });

  test('mprotect_fixup: RW→R faulted keeps VM_ACCOUNT → 2', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 1);
    value(s.protect(B, 4n * P, PROT.READ));
    expect(flagsAt(s, B)).toEqual(['rd', 'mr', 'mw', 'me', 'ac']);
    anon(s, B + 4n * P, 4, PROT.READ);
    expect(vmas(s)).toBe(2);
  });

  test('vma_merge_extend: grow in place to touch an unfaulted next → 1', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    anon(s, B + 8n * P, 4);
    value(s.remap({ addr: B, oldLen: 4n * P, newLen: 8n * P, flags: 0n, newAddr: 0n }));
    expect(layout(s)).toEqual(['10000000-1000c000']);
  });

  test('vma_merge_extend: grow to touch a faulted next with a different anon_vma → 2', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    anon(s, B + 8n * P, 4);
    fill(s, B + 8n * P, 4);
    value(s.remap({ addr: B, oldLen: 4n * P, newLen: 8n * P, flags: 0n, newAddr: 0n }));
    expect(layout(s)).toEqual(['10000000-10008000', '10008000-1000c000']);
  });

  test('vma_merge_existing_range: mprotect middle and back → 3 → 1', () => {
    const s = space();
    anon(s, B, 12);
    fill(s, B, 12);
    value(s.protect(B + 4n * P, 4n * P, PROT.READ));
    expect(vmas(s)).toBe(3);
    value(s.protect(B + 4n * P, 4n * P, RW));
    expect(layout(s)).toEqual(['10000000-1000c000']);
  });

  test('is_mergeable_anon_vma case 1 (879bca0a2c4f): unfaulted RW | faulted RWX → RW → 1', () => {
    const s = space();
    anon(s, B, 4);
    anon(s, B + 4n * P, 4, RWX);
    fill(s, B + 4n * P, 4);
    value(s.protect(B + 4n * P, 4n * P, RW));
    expect(vmas(s)).toBe(1);
  });

  test('pre-6.16 is_mergeable_anon_vma: the same mprotect does not merge → 2', () => {
    const s = space('linux-6.6');
    anon(s, B, 4);
    anon(s, B + 4n * P, 4, RWX);
    fill(s, B + 4n * P, 4);
    value(s.protect(B + 4n * P, 4n * P, RW));
    expect(vmas(s)).toBe(2);
  });

  test('find_mergeable_anon_vma: anon_vma reuse on first fault → merges later (all profiles)', () => {
    for (const p of ['linux-6.1', 'linux-6.18']) {
      const s = space(p);
      anon(s, B, 4);
      fill(s, B, 4);
      anon(s, B + 4n * P, 4, RWX);
      value(s.touch(B + 4n * P, 1n));
      expect(s.lastTrace.entries.some((e) => e.result === 'reused')).toBe(true);
      value(s.protect(B + 4n * P, 4n * P, RW));
      expect(vmas(s)).toBe(1);
    }
  });

  test('reusable_anon_vma: no reuse when flags beyond access bits differ at fault time → 2', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    anon(s, B + 4n * P, 4, RWX);
    value(s.advise(B + 4n * P, 4n * P, MADV.DONTFORK));
    fill(s, B + 4n * P, 4);
    value(s.advise(B + 4n * P, 4n * P, MADV.DOFORK));
    value(s.protect(B + 4n * P, 4n * P, RW));
    expect(vmas(s)).toBe(2);
  });
});

describe('merge predicates', () => {
  test('is_mergeable_vma: VM_NORESERVE differs → no merge', () => {
    const s = space();
    anon(s, B, 4);
    anon(s, B + 4n * P, 4, RW, 0x4000 /* MAP_NORESERVE */);
    expect(vmas(s)).toBe(2);
    expect(flagsAt(s, B + 4n * P)).toEqual(['rd', 'wr', 'mr', 'mw', 'me', 'nr']);
  });

  test('separate MAP_SHARED|MAP_ANONYMOUS mmaps never merge (own shmem file each)', () => {
    const s = space();
    value(s.map({ addr: B, length: 4n * P, prot: RW, flags: 0x31 }));
    value(s.map({ addr: B + 4n * P, length: 4n * P, prot: RW, flags: 0x31 }));
    expect(vmas(s)).toBe(2);
  });

  test('mprotect middle of one shmem mapping and back → merges again (same file, pgoff continuity)', () => {
    const s = space();
    value(s.map({ addr: B, length: 12n * P, prot: RW, flags: 0x31 }));
    value(s.protect(B + 4n * P, 4n * P, PROT.READ));
    expect(vmas(s)).toBe(3);
    value(s.protect(B + 4n * P, 4n * P, RW));
    expect(vmas(s)).toBe(1);
  });

  test('memfd mappings merge only with pgoff continuity', () => {
    const s = space();
    const fd = value(s.memfd(16n * P));
    value(s.map({ addr: B, length: 4n * P, prot: RW, flags: 0x11, file: fd, offset: 0n }));
    value(
      s.map({ addr: B + 4n * P, length: 4n * P, prot: RW, flags: 0x11, file: fd, offset: 4n * P }),
    );
    value(s.map({ addr: B + 8n * P, length: 4n * P, prot: RW, flags: 0x11, file: fd, offset: 0n }));
    expect(layout(s)).toEqual(['10000000-10008000', '10008000-1000c000']);
    expect(s.snapshot(B, B + 12n * P, { pages: false }).vmas.map((v) => v.offset)).toEqual([
      0n,
      0n,
    ]);
  });

  test('mlock/munlock re-merge (mlock_fixup → vma_modify_flags)', () => {
    const s = space();
    anon(s, B, 12);
    value(s.lock(B + 4n * P, 4n * P, 0));
    expect(vmas(s)).toBe(3);
    expect(flagsAt(s, B + 4n * P)).toContain('lo');
    expect(s.lockedVm).toBe(4);
    value(s.unlock(B + 4n * P, 4n * P));
    expect(vmas(s)).toBe(1);
    expect(s.lockedVm).toBe(0);
  });

  test('madvise HUGEPAGE then NOHUGEPAGE and back: flags split and re-merge', () => {
    const s = space();
    anon(s, B, 12);
    value(s.advise(B, 4n * P, MADV.HUGEPAGE));
    expect(flagsAt(s, B)).toContain('hg');
    expect(vmas(s)).toBe(2);
    value(s.advise(B, 4n * P, MADV.NOHUGEPAGE));
    expect(flagsAt(s, B)).toContain('nh');
    value(s.advise(B, 12n * P, MADV.NOHUGEPAGE));
    expect(vmas(s)).toBe(1);
  });

  test('can_vma_merge_right: prev and next with different anon_vmas block a three-way merge', () => {
    const s = space();
    anon(s, B, 4);
    fill(s, B, 4);
    anon(s, B + 8n * P, 4);
    fill(s, B + 8n * P, 4);
    anon(s, B + 4n * P, 4); // fresh middle: merges left only
    expect(layout(s)).toEqual(['10000000-10008000', '10008000-1000c000']);
  });

  test('uffd registration blocks merges (different userfaultfd ctx)', () => {
    const s = space();
    anon(s, B, 8);
    value(s.uffdRegister(B + 4n * P, 4n * P));
    expect(flagsAt(s, B + 4n * P)).toContain('um');
    expect(vmas(s)).toBe(2);
  });

  test('mseal splits and marks sl', () => {
    const s = space();
    anon(s, B, 8);
    value(s.seal(B, 4n * P));
    expect(flagsAt(s, B)).toContain('sl');
    expect(vmas(s)).toBe(2);
    expect(s.protect(B, P, PROT.READ)).toMatchObject({ ok: false, code: 'EPERM' });
    expect(s.unmap(B, P)).toMatchObject({ ok: false, code: 'EPERM' });
  });
});

/** Walks over a range that merge as they go must resume past the merged VMA. */
describe('range walks resume after a merged neighbour', () => {
  const NR = 0x4000; // MAP_NORESERVE: no VM_ACCOUNT, so R and RW pieces differ only in prot
  test('do_mprotect_pkey: R | faulted RW | R → RW over all is one VMA (vma_iter_end after mprotect_fixup)', () => {
    const s = space();
    anon(s, B, 15, RW, NR);
    value(s.protect(B, 5n * P, PROT.READ));
    value(s.protect(B + 10n * P, 5n * P, PROT.READ));
    fill(s, B + 5n * P, 5);
    expect(s.protect(B, 15n * P, RW)).toEqual({ ok: true, value: 0 });
    expect(layout(s)).toEqual(['10000000-1000f000']);
  });

  test('apply_vma_lock_flags: mlock over pieces that merge while locking returns 0 and locks all', () => {
    const s = space();
    anon(s, B, 6);
    value(s.lock(B + 2n * P, 2n * P, 0));
    value(s.unlock(B + 2n * P, 2n * P));
    expect(s.lock(B, 6n * P, 0)).toEqual({ ok: true, value: 0 });
    expect(layout(s)).toEqual(['10000000-10006000']);
    expect(flagsAt(s, B + 5n * P)).toContain('lo');
  });

  test('madvise_walk_vmas: MADV_HUGEPAGE across pieces that merge on the way returns 0', () => {
    const s = space();
    anon(s, B, 6);
    value(s.advise(B + 2n * P, 2n * P, MADV.HUGEPAGE));
    value(s.advise(B, 2n * P, MADV.HUGEPAGE));
    expect(s.advise(B, 6n * P, MADV.HUGEPAGE)).toEqual({ ok: true, value: 0 });
    expect(layout(s)).toEqual(['10000000-10006000']);
  });
});

/** madvise refusals found by differential fuzzing against 6.18 (mm/madvise.c, mm/gup.c). */
describe('madvise refusals', () => {
  const SHARED = 0x01 | 0x20 | 0x10; // MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED
  const shared = (s: ModelSpace) =>
    value(s.map({ addr: B, length: 2n * P, prot: RW, flags: SHARED }));
  test('madvise_free_single_vma: MADV_FREE on shared anonymous memory is EINVAL', () => {
    const s = space();
    shared(s);
    expect(s.advise(B, P, MADV.FREE)).toMatchObject({ ok: false, code: 'EINVAL' });
  });
  test('madvise_remove: MADV_REMOVE on private anonymous memory (no vm_file) is EINVAL', () => {
    const s = space();
    anon(s, B, 2);
    expect(s.advise(B, P, MADV.REMOVE)).toMatchObject({ ok: false, code: 'EINVAL' });
  });
  test('madvise_vma_behavior: MADV_WIPEONFORK on shared memory is EINVAL', () => {
    const s = space();
    shared(s);
    expect(s.advise(B, P, MADV.WIPEONFORK)).toMatchObject({ ok: false, code: 'EINVAL' });
  });
  test('__get_user_pages (FOLL_MADV_POPULATE): POPULATE_READ on PROT_NONE is EINVAL', () => {
    const s = space();
    anon(s, B, 2, PROT.NONE);
    expect(s.advise(B, P, MADV.POPULATE_READ)).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(s.advise(B, P, MADV.POPULATE_WRITE)).toMatchObject({ ok: false, code: 'EINVAL' });
  });
  test('madvise_dontneed_free_valid_vma: MADV_DONTNEED on a VM_LOCKED VMA is EINVAL', () => {
    const s = space();
    anon(s, B, 2);
    value(s.lock(B, 2n * P, 0));
    expect(s.advise(B, P, MADV.DONTNEED)).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(s.advise(B, P, MADV.DONTNEED_LOCKED)).toEqual({ ok: true, value: 0 });
  });
  test('do_vmi_munmap: a shared old_len == 0 move leaves the source VMA whole', () => {
    const s = space();
    shared(s);
    const r = s.remap({
      addr: B + P,
      oldLen: 0n,
      newLen: P,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: F,
    });
    expect(r).toEqual({ ok: true, value: F });
    expect(layout(s, B, B + 2n * P)).toEqual(['10000000-10002000']);
  });
});
