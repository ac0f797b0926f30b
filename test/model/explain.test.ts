import { Command } from 'commander';
import { describe, expect, test, vi } from 'vitest';
import { registerExplain } from '../../src/cli/explain.js';
import { explainRemap, formatExplain, parseLayout } from '../../src/model/explain.js';

describe('explain (model)', () => {
  test('Linus example 1 on linux-6.6: PTE move of 1 page then a PMD move', () => {
    const x = explainRemap({
      profile: 'linux-6.6',
      old: 0x1fff000n,
      new: 0x0fff000n,
      len: 0x201000n,
    });
    expect(x.result).toEqual({ ok: true, value: 0x0fff000n });
    expect(x.plans[0]!.extents.map((e) => e.level)).toEqual(['pte', 'pmd']);
    const text = formatExplain(x);
    expect(text).toContain('realignment: no — profile predates try_realign_addr (6.7)');
    expect(text).toMatch(/pte\s+0x1fff000\s+0xfff000\s+4 KiB\s+1/);
  });

  test('Linus example 1 on linux-6.7: realigned, two PMD moves', () => {
    const text = formatExplain(
      explainRemap({ profile: 'linux-6.7', old: 0x1fff000n, new: 0x0fff000n, len: 0x201000n }),
    );
    expect(text).toContain('realignment: yes, walk starts 0x1e00000 → 0xe00000');
    expect(text).toContain(
      'totals: 0 PUD, 0 huge-PMD, 2 PMD, 0 PTE-level moves (0 PTEs), 0 skipped',
    );
    expect(text).toContain('mremap_to: ranges overlap → pass');
  });

  test('layout syntax', () => {
    expect(parseLayout('0x1000-0x3000:r:unfaulted, 0x10000-0x20000:rw:thp:shared')).toEqual([
      { start: 0x1000n, end: 0x3000n, prot: 1, shared: false, faulted: false, thp: false },
      { start: 0x10000n, end: 0x20000n, prot: 3, shared: true, faulted: true, thp: true },
    ]);
    expect(() => parseLayout('0x1000')).toThrow(/expected START-END/);
    expect(() => parseLayout('0x1000-0x2000:bogus')).toThrow(/unknown attribute 'bogus'/);
    expect(() => parseLayout('0x1001-0x2000')).toThrow(/page aligned/);
  });

  test("Joel's layout: source range starting mid-VMA is not realigned", () => {
    const x = explainRemap({
      profile: 'linux-6.18',
      old: 0x40300000n,
      new: 0x40100000n,
      len: 0x100000n,
      layout: parseLayout('0x40000000-0x40100000,0x40200000-0x40400000'),
    });
    expect(x.plans[0]!.realigned).toBe(false);
    expect(x.plans[0]!.realignReason).toContain('can_align_down(old)');
  });
});

describe('explain (CLI)', () => {
  async function run(
    args: string[],
  ): Promise<{ out: string; err: string; code: number | undefined }> {
    const program = new Command();
    let err = '';
    let code: number | undefined;
    program.exitOverride((e) => {
      code = e.exitCode;
      throw e;
    });
    program.configureOutput({ writeErr: (s) => (err += s), writeOut: () => undefined });
    registerExplain(program);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    try {
      await program.parseAsync(['node', 'mremap-lab', 'explain', ...args]);
    } catch {
      // commander exit
    } finally {
      spy.mockRestore();
    }
    return { out, err, code };
  }

  test('prints the plan', async () => {
    const r = await run([
      '--old',
      '0x1fff000',
      '--new',
      '0x0fff000',
      '--len',
      '0x201000',
      '--profile',
      'linux-6.7',
    ]);
    expect(r.out).toContain('pmd        0x1e00000');
    expect(r.code).toBeUndefined();
  });

  test('flags are the full unsigned long: bit 32 is printed and is EINVAL, bit 31 too', async () => {
    const call = ['--old', '0x1fff000', '--new', '0x0fff000', '--len', '0x1000', '--flags'];
    const hi = await run([...call, '0x100000003']);
    expect(hi.code).toBeUndefined();
    expect(hi.out).toContain(
      'mremap(0x1fff000, 0x1000, 0x1000, MAYMOVE|FIXED|0x100000000, 0xfff000) on model linux-6.18',
    );
    expect(hi.out).toContain('check_mremap_params: flags & ~allowed → EINVAL');
    expect(hi.out).toContain('result: -1 EINVAL');
    const b31 = await run([...call, 'MAYMOVE|FIXED|0x80000000']);
    expect(b31.code).toBeUndefined();
    expect(b31.out).toContain('MAYMOVE|FIXED|0x80000000, 0xfff000)');
    expect(b31.out).toContain('result: -1 EINVAL');
    const known = await run([...call, '0x3']);
    expect(known.out).toContain('result: 0xfff000');
  });

  test('a faulted VMA moved next to one whose pgoff does not line up: "not merged" and why', async () => {
    // B is unfaulted (pgoff 0x20000); A is faulted, so copy_vma keeps its pgoff 0x10000 and
    // 6.16's case 1 would allow the anon_vma — only the pgoff arithmetic refuses.
    const r = await run([
      '--old',
      '0x10000000',
      '--new',
      '0x20004000',
      '--len',
      '0x4000',
      '--layout',
      '0x10000000-0x10004000,0x20000000-0x20004000:unfaulted',
      '--profile',
      'linux-6.18',
    ]);
    expect(r.code).toBeUndefined();
    const lines = r.out.split('\n');
    const at = lines.indexOf('neighbour pairs:');
    expect(lines.slice(at, at + 2)).toEqual([
      'neighbour pairs:',
      '  copy_vma: 0x20000000-0x20004000 | 0x20004000-0x20008000 not merged — can_vma_merge_after: pgoff 0x20000 + 4 != 0x10000',
    ]);
    expect(lines[at + 2]).toMatch(/^page-table plan:/);
  });

  test('pre-6.16: both pairs refused by the anon_vma chain rule, named in --json', async () => {
    const args = (profile: string) => [
      '--old',
      '0x20000000',
      '--new',
      '0x10000000',
      '--len',
      '0x4000',
      '--layout',
      '0xfffc000-0x10000000:unfaulted,0x10004000-0x10008000:unfaulted,0x20000000-0x20004000',
      '--profile',
      profile,
      '--json',
    ];
    type J = { merges: { caller: string; merged: boolean; why: string }[] };
    const pre = JSON.parse((await run(args('linux-6.6'))).out) as J;
    expect(pre.merges.map((m) => [m.caller, m.merged, m.why])).toEqual([
      [
        'copy_vma',
        false,
        'is_mergeable_anon_vma: source faulted, target unfaulted, rule before 6.16 (879bca0a2c4f): one NULL side merges only with a singular target chain',
      ],
      [
        'copy_vma',
        false,
        'is_mergeable_anon_vma: source faulted, target unfaulted, rule before 6.16 (879bca0a2c4f): one NULL side merges only with a singular target chain',
      ],
    ]);
  });

  test('--json', async () => {
    const r = await run([
      '--old',
      '0x1fff000',
      '--new',
      '0x0fff000',
      '--len',
      '0x201000',
      '--json',
    ]);
    const j = JSON.parse(r.out) as { result: { value: string }; profile: string };
    expect(j.profile).toBe('linux-6.18');
    expect(j.result.value).toBe('0xfff000');
  });

  test('bad input → exit code 2 with a message that says what and how to fix', async () => {
    expect(await run(['--old', 'zz', '--new', '0x0', '--len', '0x1000'])).toMatchObject({
      code: 2,
    });
    expect((await run(['--old', 'zz', '--new', '0x0', '--len', '0x1000'])).err).toContain(
      "--old 'zz' is not a number",
    );
    expect(
      (await run(['--old', '0x1000', '--new', '0x0', '--len', '0x1000', '--profile', 'linux-9']))
        .err,
    ).toContain("unknown --profile 'linux-9'");
    expect(
      (await run(['--old', '0x1000', '--new', '0x0', '--len', '0x1000', '--flags', 'MAYMOOVE']))
        .err,
    ).toContain('unknown mremap flag "MAYMOOVE"');
    expect(
      (await run(['--old', '0x1000', '--new', '0x0', '--len', '0x1000', '--layout', 'x'])).err,
    ).toContain('layout entry 1');
  });
});
