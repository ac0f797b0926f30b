import { describe, expect, test } from 'vitest';
import { MREMAP } from '../../src/space/constants.js';
import { ModelSpace } from '../../src/model/address-space.js';
import { SHARED_ANON, P, RW, anon, code, fill, layout, space, value } from './helpers.js';

const B = 0x10000000n; // a 4-page RW VMA lives here
const { MAYMOVE, FIXED, DONTUNMAP } = MREMAP;

function setup(profile = 'linux-6.18'): ModelSpace {
  const s = space(profile);
  anon(s, B, 4);
  return s;
}

type Row = [name: string, run: (s: ModelSpace) => unknown, expected: string];

const r = (
  s: ModelSpace,
  addr: bigint,
  oldLen: bigint,
  newLen: bigint,
  flags: bigint,
  newAddr = 0n,
) => code(s.remap({ addr, oldLen, newLen, flags, newAddr }));

/** Appendix A "Parameter validation" (e1_params), [6.18 observed]. */
const APPENDIX_A: Row[] = [
  ['flags 8', (s) => r(s, B, P, P, 8n), 'EINVAL'],
  ['flags 16|1', (s) => r(s, B, P, P, 16n | 1n), 'EINVAL'],
  ['flags 8 with misaligned addr', (s) => r(s, B + 1n, P, P, 8n), 'EINVAL'],
  ['misaligned addr', (s) => r(s, B + 1n, P, P, 0n), 'EINVAL'],
  ['new_len 0', (s) => r(s, B, P, 0n, 0n), 'EINVAL'],
  ['new_len -1', (s) => r(s, B, P, (1n << 64n) - 1n, MAYMOVE), 'EINVAL'],
  ['new_len 1<<48', (s) => r(s, B, P, 1n << 48n, MAYMOVE), 'EINVAL'],
  ['FIXED w/o MAYMOVE', (s) => r(s, B, P, P, FIXED, 0x20000000n), 'EINVAL'],
  ['DONTUNMAP w/o MAYMOVE', (s) => r(s, B, P, P, DONTUNMAP, 0x20000000n), 'EINVAL'],
  ['DONTUNMAP size change', (s) => r(s, B, P, 2n * P, MAYMOVE | DONTUNMAP, 0x20000000n), 'EINVAL'],
  ['misaligned new_addr (FIXED)', (s) => r(s, B, P, P, MAYMOVE | FIXED, 0x20000001n), 'EINVAL'],
  ['new_addr past TASK_SIZE', (s) => r(s, B, P, P, MAYMOVE | FIXED, 0x800000000000n), 'EINVAL'],
  ['overlap', (s) => r(s, B, 4n * P, 4n * P, MAYMOVE | FIXED, B + 2n * P), 'EINVAL'],
  [
    'overlap with unmapped source',
    (s) => r(s, 0x30000000n, 4n * P, 4n * P, MAYMOVE | FIXED, 0x30002000n),
    'EINVAL',
  ],
  ['garbage new_addr without FIXED', (s) => r(s, B, P, P, 0n, 0xdeadbeefn), 'ok'],
  ['unmapped addr, resize', (s) => r(s, 0x30000000n, P, 2n * P, MAYMOVE), 'EFAULT'],
  ['unmapped addr, no-op', (s) => r(s, 0x30000000n, P, P, 0n), 'EFAULT'],
  [
    'no-op with old_len spanning holes',
    (s) => {
      anon(s, B + 8n * P, 2);
      return r(s, B, 16n * P, 16n * P, 0n);
    },
    'ok',
  ],
  ['grow with old_len past the VMA', (s) => r(s, B, 8n * P, 16n * P, MAYMOVE), 'EFAULT'],
  [
    'FIXED same-size move with old_len past the VMA into a hole',
    (s) => r(s, B, 8n * P, 8n * P, MAYMOVE | FIXED, 0x20000000n),
    'ok',
  ],
  ['private old_len 0', (s) => r(s, B, 0n, P, MAYMOVE), 'EINVAL'],
  [
    'grow blocked without MAYMOVE',
    (s) => {
      anon(s, B + 4n * P, 1, 1);
      return r(s, B, 4n * P, 8n * P, 0n);
    },
    'ENOMEM',
  ],
  ['grow of a mid-VMA range without MAYMOVE', (s) => r(s, B, P, 2n * P, 0n), 'ENOMEM'],
  ['DONTUNMAP 4095/4096', (s) => r(s, B, 4095n, 4096n, MAYMOVE | DONTUNMAP, 0x20000000n), 'ok'],
  [
    'shared old_len 0',
    (s) => {
      value(s.map({ addr: 0x50000000n, length: 2n * P, prot: RW, flags: SHARED_ANON }));
      return r(s, 0x50000000n, 0n, 2n * P, MAYMOVE);
    },
    'ok',
  ],
  [
    'vdso grow',
    (s) => {
      s.installSpecialMapping(0x60000000n, 2n * P);
      return r(s, 0x60000000n, 2n * P, 4n * P, MAYMOVE);
    },
    'EFAULT',
  ],
  [
    'vdso DONTUNMAP',
    (s) => {
      s.installSpecialMapping(0x60000000n, 2n * P);
      return r(s, 0x60000000n, 2n * P, 2n * P, MAYMOVE | DONTUNMAP, 0x20000000n);
    },
    'EINVAL',
  ],
  [
    'vdso shrink',
    (s) => {
      s.installSpecialMapping(0x60000000n, 2n * P);
      return r(s, 0x60000000n, 2n * P, P, 0n);
    },
    'EINVAL',
  ],
  [
    'DONTUNMAP hint overlapping the source',
    (s) => r(s, B, 2n * P, 2n * P, MAYMOVE | DONTUNMAP, B + P),
    'EINVAL',
  ],
];

describe('check_mremap_params / check_prep_vma errno order — Appendix A on linux-6.18', () => {
  test.each(APPENDIX_A)('%s', (_name, run, expected) => {
    expect(run(setup())).toBe(expected);
  });
});

describe('check_mremap_params — first failing check wins (linux-6.18)', () => {
  test('flags are checked before addr alignment and new_len', () => {
    const s = setup();
    expect(r(s, B + 1n, P, 0n, 0x40n)).toBe('EINVAL');
    expect(s.lastTrace.entries.at(-1)!.step).toBe('check_mremap_params: flags & ~allowed');
  });

  test('overlap is checked before the VMA lookup (unmapped overlapping source gives EINVAL, not EFAULT)', () => {
    const s = setup();
    r(s, 0x30000000n, 4n * P, 4n * P, MAYMOVE | FIXED, 0x30002000n);
    expect(s.lastTrace.entries.at(-1)).toEqual({
      step: 'check_mremap_params: ranges overlap',
      result: 'EINVAL',
    });
  });

  test('map_count headroom: FIXED fails once map_count >= max-5; no-ops never do', () => {
    const s = space('linux-6.18', { maxMapCount: 20 });
    for (let i = 0n; i < 15n; i++) anon(s, B + i * 2n * P, 1);
    expect(s.mapCount).toBe(15);
    expect(r(s, B, P, P, MAYMOVE | FIXED, 0x20000000n)).toBe('ENOMEM');
    expect(r(s, B, P, P, 0n)).toBe('ok');
    value(s.unmap(B + 28n * P, P));
    expect(s.mapCount).toBe(14);
    expect(r(s, B, P, P, MAYMOVE | FIXED, 0x20000000n)).toBe('ok');
  });

  test("map_count counts the process's other VMAs (otherMapCount) against max_map_count", () => {
    const s = space('linux-6.18', { maxMapCount: 20, otherMapCount: 10 });
    for (let i = 0n; i < 5n; i++) anon(s, B + i * 2n * P, 1);
    expect(s.mapCount).toBe(15);
    expect(r(s, B, P, P, MAYMOVE | FIXED, 0x20000000n)).toBe('ENOMEM');
    // split_vma refuses at map_count >= max_map_count: mprotect of a VMA's middle needs two.
    const t = space('linux-6.18', { maxMapCount: 20, otherMapCount: 18 });
    anon(t, 0x30000000n, 4);
    expect(t.protect(0x30001000n, P, 1)).toMatchObject({ ok: false, code: 'ENOMEM' });
    const u = space('linux-6.18', { maxMapCount: 20, otherMapCount: 0 });
    anon(u, 0x30000000n, 4);
    expect(u.protect(0x30001000n, P, 1)).toMatchObject({ ok: true });
  });

  test('6.17+: check_prep_vma failures do not unmap the FIXED destination', () => {
    const s = setup();
    anon(s, 0x20000000n, 8);
    fill(s, 0x20000000n, 1);
    expect(r(s, B, 8n * P, 16n * P, MAYMOVE | FIXED, 0x20000000n)).toBe('EFAULT');
    expect(layout(s)).toEqual(['10000000-10004000', '20000000-20008000']);
    expect(value(s.read(0x20000000n))).toBe(0x20000000n);
  });

  test('≤6.16 (vrm): the FIXED destination is unmapped before remap_is_valid fails', () => {
    const s = setup('linux-6.16');
    anon(s, 0x20000000n, 8);
    expect(r(s, B, 8n * P, 16n * P, MAYMOVE | FIXED, 0x20000000n)).toBe('EFAULT');
    expect(layout(s)).toEqual(['10000000-10004000']);
  });

  test('sealed VMA: move, shrink and grow give EPERM; FIXED onto a sealed destination gives EPERM', () => {
    const s = setup();
    value(s.seal(B, 4n * P));
    expect(r(s, B, 4n * P, 4n * P, MAYMOVE | FIXED, 0x20000000n)).toBe('EPERM');
    expect(r(s, B, 4n * P, 2n * P, 0n)).toBe('EPERM');
    expect(r(s, B, 4n * P, 8n * P, MAYMOVE)).toBe('EPERM');
    anon(s, 0x30000000n, 4);
    expect(r(s, 0x30000000n, 4n * P, 4n * P, MAYMOVE | FIXED, B)).toBe('EPERM');
    expect(layout(s)).toEqual(['10000000-10004000', '30000000-30004000']);
  });

  test('mseal does not exist before 6.10: ENOSYS', () => {
    expect(code(setup('linux-6.6').seal(B, P))).toBe('ENOSYS');
  });

  test('shrink with a huge old_len fails in do_vmi_munmap (len > TASK_SIZE - start) → EINVAL', () => {
    expect(r(setup(), B, 1n << 62n, P, 0n)).toBe('EINVAL');
  });

  test('shrink in place unmaps the tail with munmap semantics, across holes and other VMAs', () => {
    const s = setup();
    anon(s, B + 6n * P, 2, 1);
    anon(s, B + 10n * P, 2);
    expect(r(s, B, 11n * P, 2n * P, 0n)).toBe('ok');
    expect(layout(s)).toEqual(['10000000-10002000', '1000b000-1000c000']);
  });
});

describe('≤6.14 classic and 6.15–6.16 vrm orders', () => {
  test('linux-6.1: DONTUNMAP compares unaligned lengths (4095/4096 → EINVAL)', () => {
    expect(r(setup('linux-6.1'), B, 4095n, 4096n, MAYMOVE | DONTUNMAP, 0x20000000n)).toBe('EINVAL');
  });

  test('linux-6.16: DONTUNMAP compares unaligned lengths too', () => {
    expect(r(setup('linux-6.16'), B, 4095n, 4096n, MAYMOVE | DONTUNMAP, 0x20000000n)).toBe(
      'EINVAL',
    );
  });

  test('linux-6.1: FIXED without MAYMOVE is checked before addr alignment', () => {
    const s = setup('linux-6.1');
    expect(r(s, B + 1n, P, P, FIXED, 0x20000000n)).toBe('EINVAL');
    expect(s.lastTrace.entries.at(-1)!.step).toBe('mremap: FIXED && !MAYMOVE');
  });

  test('linux-6.1: unmapped source with overlapping FIXED destination → EFAULT (lookup precedes overlap)', () => {
    expect(r(setup('linux-6.1'), 0x30000000n, 4n * P, 4n * P, MAYMOVE | FIXED, 0x30002000n)).toBe(
      'EFAULT',
    );
  });

  test('linux-6.16: huge new_len without FIXED fails later with ENOMEM, not EINVAL', () => {
    expect(r(setup('linux-6.16'), B, 4n * P, 1n << 48n, MAYMOVE)).toBe('ENOMEM');
  });

  test('≤6.16: FIXED same-size move past the VMA end → EFAULT (no multi-VMA moves)', () => {
    expect(r(setup('linux-6.16'), B, 8n * P, 8n * P, MAYMOVE | FIXED, 0x20000000n)).toBe('EFAULT');
    expect(r(setup('linux-6.1'), B, 8n * P, 8n * P, MAYMOVE | FIXED, 0x20000000n)).toBe('EFAULT');
  });

  test('linux-6.1 garbage new_addr without FIXED is ignored', () => {
    expect(r(setup('linux-6.1'), B, P, P, 0n, 0xdeadbeefn)).toBe('ok');
  });
});

describe('outcomes', () => {
  test('expand in place (vma_merge_extend) keeps addr and data', () => {
    const s = setup();
    fill(s, B, 4);
    expect(
      value(s.remap({ addr: B, oldLen: 4n * P, newLen: 8n * P, flags: 0n, newAddr: 0n })),
    ).toBe(B);
    expect(layout(s)).toEqual(['10000000-10008000']);
    expect(value(s.read(B + 3n * P))).toBe(B + 3n * P);
  });

  test('expand by moving: MAYMOVE picks a new place, source unmapped, frames kept', () => {
    const s = space('linux-6.18', { window: { start: 0x40000000n, end: 0x80000000n } });
    anon(s, B, 4);
    fill(s, B, 4);
    anon(s, B + 4n * P, 1, 1);
    const frame = s.snapshot(B, B + P).pages[0]!.frame;
    const to = value(
      s.remap({ addr: B, oldLen: 4n * P, newLen: 0x200000n, flags: MAYMOVE, newAddr: 0n }),
    );
    expect(to).toBe(0x7fe00000n); // top-down, 2 MiB aligned (THP-aligned anon, PMD-multiple length)
    expect(layout(s)).toEqual(['10004000-10005000', '7fe00000-80000000']);
    expect(s.snapshot(to, to + P).pages[0]!.frame).toBe(frame);
    expect(value(s.read(to + 3n * P))).toBe(B + 3n * P);
  });

  test('placeUnfixed hook decides where non-fixed moves land', () => {
    const s = space('linux-6.18', { placeUnfixed: (len) => 0x70000000n - len });
    anon(s, B, 4);
    anon(s, B + 4n * P, 1);
    value(s.protect(B + 4n * P, P, 1));
    expect(
      value(s.remap({ addr: B, oldLen: 4n * P, newLen: 8n * P, flags: MAYMOVE, newAddr: 0n })),
    ).toBe(0x70000000n - 8n * P);
  });

  test('shared old_len 0 creates a second mapping of the same shmem pages', () => {
    const s = space();
    value(s.map({ addr: 0x50000000n, length: 2n * P, prot: RW, flags: SHARED_ANON }));
    value(s.touch(0x50000000n, 77n));
    const dup = value(
      s.remap({ addr: 0x50000000n, oldLen: 0n, newLen: 2n * P, flags: MAYMOVE, newAddr: 0n }),
    );
    expect(dup).not.toBe(0x50000000n);
    expect(value(s.read(dup))).toBe(77n);
    value(s.touch(dup + P, 5n));
    expect(value(s.read(0x50000000n + P))).toBe(5n);
  });
});

/** mm/mremap.c:align_hugetlb — the hugetlb refusals, after the lookup and the seal check. */
describe('align_hugetlb', () => {
  const HUGE = 0x40000; // MAP_HUGETLB
  const H = 0x40000000n;
  const M2 = 0x200000n;
  const hspace = (profile: string) => {
    const s = new ModelSpace({ profile, hugetlbPages: 4 });
    expect(s.map({ addr: H, length: 2n * M2, prot: 3, flags: 0x22 | 0x10 | HUGE })).toEqual({
      ok: true,
      value: H,
    });
    return s;
  };
  for (const profile of ['linux-6.6', 'linux-6.16', 'linux-6.18']) {
    test(`${profile}: growing, misaligned addr and misaligned raw new_addr are EINVAL`, () => {
      const s = hspace(profile);
      const code = (r: { ok: boolean; code?: string }) => (r.ok ? 'ok' : r.code);
      expect(
        code(s.remap({ addr: H, oldLen: 2n * M2, newLen: 3n * M2, flags: 1n, newAddr: 0n })),
      ).toBe('EINVAL');
      expect(
        code(s.remap({ addr: H + 4096n, oldLen: 4096n, newLen: 4096n, flags: 0n, newAddr: 0n })),
      ).toBe('EINVAL');
      expect(code(s.remap({ addr: H, oldLen: M2, newLen: M2, flags: 0n, newAddr: 0x3001n }))).toBe(
        'EINVAL',
      );
      // Lengths round up to the huge page: a 1-page no-op is a 2 MiB no-op.
      expect(s.remap({ addr: H, oldLen: 4096n, newLen: 4096n, flags: 0n, newAddr: 0n })).toEqual({
        ok: true,
        value: H,
      });
      expect(s.remap({ addr: H, oldLen: 2n * M2, newLen: 4096n, flags: 0n, newAddr: 0n })).toEqual({
        ok: true,
        value: H,
      });
      expect(s.vmas().map((v) => [v.start, v.end])).toEqual([[Number(H), Number(H + M2)]]);
    });
  }
  test('hugetlb_reserve_pages: a mapping larger than the free pool is ENOMEM; munmap returns pages', () => {
    const s = hspace('linux-6.18');
    expect(
      s.map({ addr: H + 4n * M2, length: 3n * M2, prot: 3, flags: 0x22 | 0x10 | HUGE }),
    ).toMatchObject({ code: 'ENOMEM' });
    expect(s.unmap(H, 2n * M2)).toEqual({ ok: true, value: 0 });
    expect(
      s.map({ addr: H + 4n * M2, length: 3n * M2, prot: 3, flags: 0x22 | 0x10 | HUGE }).ok,
    ).toBe(true);
  });
  test('hugetlb_vm_op_split: munmap inside a huge page is EINVAL', () => {
    const s = hspace('linux-6.18');
    expect(s.unmap(H + 4096n, 4096n)).toMatchObject({ code: 'EINVAL' });
    expect(s.unmap(H + M2, M2)).toEqual({ ok: true, value: 0 });
  });
});
