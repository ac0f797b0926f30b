/**
 * Arenas are V8-proof: no page of an arena is ever a hole another thread could mmap into,
 * so V8's randomly hinted heap pages never land inside one, and the exit handler (which
 * releases every live arena) unmaps nothing but the arenas' own memory.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { isHoleName } from '../../src/kernel/holes.js';
import { KernelSpace, remapHoles } from '../../src/kernel/kernel-space.js';
import { readMaps } from '../../src/kernel/maps.js';
import { gaps } from '../../src/kernel/ranges.js';
import { MAP, MREMAP, PAGE_SIZE, PROT } from '../../src/space/constants.js';

const P = PAGE_SIZE;
const root = path.resolve(import.meta.dirname, '../..');

/** VMAs of this process in [start, end): placeholders and others, and the holes left. */
function layout(a: Arena): { holes: number; placeholders: number; others: number } {
  const m = readMaps(process.pid);
  if (!m.ok) throw new Error(`maps: ${m.code}`);
  const inside = m.value.filter((v) => v.end > a.start && v.start < a.end);
  return {
    holes: gaps(a.start, a.end, inside).length,
    placeholders: inside.filter((v) => isHoleName(v.name)).length,
    others: inside.filter((v) => !isHoleName(v.name)).length,
  };
}

let arena: Arena | undefined;
afterEach(() => arena?.release());

describe('arena placeholders', () => {
  it('an mremap refused for its new_addr on 6.17+ still finds its source as a hole (6.1 looks it up first)', () => {
    arena = Arena.reserve({ size: 64n * P, interior: 'empty' });
    const call = {
      addr: arena.start,
      oldLen: P,
      newLen: P,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: arena.start + 14n, // misaligned: EINVAL before the lookup only since 6.17
    };
    expect(remapHoles(call)).toEqual([{ start: arena.start, end: arena.start + P }]);
    // Arena.open works on whole pages, so a misaligned span opens the pages it touches.
    arena.open([{ start: arena.start + 14n, end: arena.start + 14n + P }]);
    expect(layout(arena)).toEqual({ holes: 1, placeholders: 1, others: 0 });
    const m = readMaps(process.pid);
    if (!m.ok) throw new Error(m.code);
    const first = m.value.find((v) => v.end > arena!.start && v.start < arena!.end)!;
    expect(first.start).toBe(arena.start + 2n * P);
    arena.fill();
    expect(layout(arena)).toEqual({ holes: 0, placeholders: 1, others: 0 });
  });

  it('an empty arena has no hole, yet a snapshot shows none of the placeholders', () => {
    arena = Arena.reserve({ size: 64n * P, interior: 'empty' });
    expect(layout(arena)).toEqual({ holes: 0, placeholders: 1, others: 0 });
    const k = new KernelSpace(arena);
    expect(k.snapshot(arena.start, arena.end).vmas).toEqual([]);
    const flags = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;
    k.map({ addr: arena.page(4), length: 2n * P, prot: PROT.READ | PROT.WRITE, flags });
    // Moved away: the source is re-covered right after the call.
    const r = k.remap({
      addr: arena.page(4),
      oldLen: 2n * P,
      newLen: 2n * P,
      flags: MREMAP.MAYMOVE | MREMAP.FIXED,
      newAddr: arena.page(20),
    });
    expect(r).toEqual({ ok: true, value: arena.page(20) });
    expect(layout(arena)).toEqual({ holes: 0, placeholders: 2, others: 1 });
    expect(k.snapshot(arena.start, arena.end).vmas.map((v) => [v.start, v.end])).toEqual([
      [arena.page(20), arena.page(22)],
    ]);
    // Growth in place still finds the hole the placeholder stands for.
    const g = k.remap({
      addr: arena.page(20),
      oldLen: 2n * P,
      newLen: 6n * P,
      flags: 0n,
      newAddr: 0n,
    });
    expect(g).toEqual({ ok: true, value: arena.page(20) });
    expect(k.unmap(arena.page(20), 6n * P)).toEqual({ ok: true, value: 0 });
    expect(layout(arena)).toEqual({ holes: 0, placeholders: 1, others: 0 });
    arena.reset('empty');
    expect(layout(arena)).toEqual({ holes: 0, placeholders: 1, others: 0 });
  });

  it('churn while V8 allocates 2,000 large arrays: nothing foreign ever inside, clean exit', () => {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', path.join(root, 'test/kernel/v8-churn.mjs'), '240', '2000'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ops: number;
      arrays: number;
      count: number;
      violations: string[];
    };
    expect({
      ops: out.ops,
      arrays: out.arrays,
      count: out.count,
      violations: out.violations,
    }).toEqual({
      ops: 240,
      arrays: 2000,
      count: 0,
      violations: [],
    });
  });
});
