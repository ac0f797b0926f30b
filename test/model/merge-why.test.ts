/**
 * The merge predicates' reasons (mm/vma.c): each refusal names the kernel function and the
 * rule, and every neighbour pair a call looked at is in lastTrace.merges.
 */
import { describe, expect, test } from 'vitest';
import { MREMAP, PROT } from '../../src/space/constants.js';
import type { ModelSpace } from '../../src/model/address-space.js';
import { P, RW, anon, fill, space, value } from './helpers.js';

const B = 0x10000000n;
const F = 0x20000000n;
const move = (s: ModelSpace, from: bigint, to: bigint, pages: number): void => {
  const len = BigInt(pages) * P;
  value(
    s.remap({
      addr: from,
      oldLen: len,
      newLen: len,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: to,
    }),
  );
};
const pairs = (s: ModelSpace): [string, string, boolean, string][] =>
  s.lastTrace.merges.map((m) => [
    m.caller,
    `${m.lower.start.toString(16)}-${m.lower.end.toString(16)}|${m.upper.start.toString(16)}-${m.upper.end.toString(16)}`,
    m.merged,
    m.why,
  ]);

describe('merge verdicts', () => {
  test('README walk-through 2 on linux-6.18: both pairs merge under case 1 of 879bca0a2c4f', () => {
    const s = space('linux-6.18');
    anon(s, B, 4);
    fill(s, B, 4);
    move(s, B, F, 4);
    anon(s, B - 4n * P, 4);
    anon(s, B + 4n * P, 4);
    move(s, F, B, 4);
    const case1 =
      'is_mergeable_anon_vma: source faulted, target unfaulted, case 1 (6.16, 879bca0a2c4f): the target takes the source anon_vma';
    expect(pairs(s)).toEqual([
      ['copy_vma', 'fffc000-10000000|10000000-10004000', true, case1],
      ['copy_vma', '10000000-10004000|10004000-10008000', true, case1],
    ]);
  });

  test('flags that differ are named', () => {
    const s = space();
    anon(s, B, 4);
    anon(s, B + 4n * P, 4, PROT.READ);
    expect(pairs(s)).toEqual([
      [
        'mmap_region',
        '10000000-10004000|10004000-10008000',
        false,
        'is_mergeable_vma: vm_flags differ (VM_WRITE|VM_ACCOUNT)',
      ],
    ]);
  });

  test("vma_modify: mprotect back to the neighbour's flags merges, and says by which rule", () => {
    const s = space();
    anon(s, B, 8);
    value(s.protect(B + 4n * P, 4n * P, PROT.READ));
    value(s.protect(B + 4n * P, 4n * P, RW));
    expect(pairs(s)).toEqual([
      [
        'vma_modify',
        '10000000-10004000|10004000-10008000',
        true,
        'is_mergeable_anon_vma: source unfaulted, target unfaulted, neither has an anon_vma',
      ],
    ]);
  });

  test('fork lineage, case 2: an unfaulted mmap next to a fork child stays apart', () => {
    const parent = space('linux-6.18');
    anon(parent, B, 4);
    fill(parent, B, 4);
    const s = parent.forkSpace();
    anon(s, B + 4n * P, 4);
    expect(pairs(s)).toEqual([
      [
        'mmap_region',
        '10000000-10004000|10004000-10008000',
        false,
        'is_mergeable_anon_vma: source unfaulted, target faulted, fork child (chain of 2), case 2 (6.16, 879bca0a2c4f) refused: the target is a fork child',
      ],
    ]);
    // mprotect_fixup: the faulted VMA keeps VM_ACCOUNT on losing write, the unfaulted one not.
    value(s.protect(B, 4n * P, PROT.READ));
    value(s.protect(B + 4n * P, 4n * P, PROT.READ));
    expect(pairs(s)).toEqual([
      [
        'vma_modify',
        '10000000-10004000|10004000-10008000',
        false,
        'is_mergeable_vma: vm_flags differ (VM_ACCOUNT)',
      ],
    ]);
  });

  test('fork lineage: copy_vma of a fork child next to an unfaulted VMA (vmg->copied_from)', () => {
    const parent = space('linux-6.18');
    anon(parent, B, 4);
    fill(parent, B, 4);
    const s = parent.forkSpace();
    anon(s, F, 4);
    move(s, B, F + 4n * P, 4);
    expect(pairs(s)).toEqual([
      [
        'copy_vma',
        '20000000-20004000|20004000-20008000',
        false,
        'is_mergeable_anon_vma: source faulted, fork child (chain of 2), target unfaulted, case 1 refused: copy_vma source is a fork child (vmg->copied_from, Jan 2026)',
      ],
    ]);
  });

  test('a range strictly inside its VMA has no neighbour pair to report', () => {
    const s = space();
    anon(s, B, 8);
    value(s.protect(B + 2n * P, 2n * P, PROT.READ));
    expect(s.lastTrace.merges).toEqual([]);
  });
});
