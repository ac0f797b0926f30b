// The native sampler (native/timing.cc benchCase), called in process. Its parameters cross
// into C++ as one object read by name (ReadParams): what TypeScript builds is accepted, and a
// missing, mistyped, out-of-range or unknown property is a TypeError that names it, before
// anything is mapped. Timed samples never run in Node's process; a --pin the kernel refuses
// fails the case loudly instead of being recorded as a pin.
import { describe, expect, it } from 'vitest';
import {
  arenaSizeFor,
  emptyBracketParams,
  layoutCase,
  nativeParams,
} from '../../src/bench/layout.js';
import { presetMatrix } from '../../src/bench/matrix.js';
import { runCase } from '../../src/bench/run.js';
import { GIB, MIB, type BenchCase } from '../../src/bench/types.js';
import { Arena } from '../../src/kernel/arena.js';
import { probe } from '../../src/kernel/probe.js';
import { snapshot } from '../../src/kernel/snapshot.js';
import { native, type NativeBenchParams } from '../../src/native.js';

const good = (): NativeBenchParams => emptyBracketParams(4, -1, 'in-process');
const call = (p: unknown) => native.benchCase(p as NativeBenchParams, new Float64Array(8));

describe('benchCase parameters', () => {
  it('takes the object TypeScript builds (empty brackets, in this process)', () => {
    const r = call(good());
    expect(r.ok && r.value.done).toBe(4);
  });

  it('names a missing property', () => {
    const { seed: _, ...p } = good();
    expect(() => call(p)).toThrow(new TypeError('benchCase: params.seed is missing'));
  });

  it('names a mistyped property and what it got', () => {
    expect(() => call({ ...good(), src: 1n })).toThrow(
      new TypeError('benchCase: params.src must be a number, got a bigint'),
    );
    expect(() => call({ ...good(), thp: 1 })).toThrow(
      new TypeError('benchCase: params.thp must be a boolean, got a number'),
    );
    expect(() => call({ ...good(), kind: 'file' })).toThrow(
      new TypeError(
        "benchCase: params.kind must be one of 'private-anon', 'shared-anon', 'memfd', got 'file'",
      ),
    );
  });

  it('refuses fractions, negatives and numbers past 2^53 where an integer is meant', () => {
    expect(() => call({ ...good(), oldLen: 4096.5 })).toThrow(
      new TypeError('benchCase: params.oldLen must be an integer in [0, 2^53]'),
    );
    expect(() => call({ ...good(), dst: -4096 })).toThrow(/params\.dst must be an integer/);
    expect(() => call({ ...good(), src: 2 ** 60 })).toThrow(/params\.src must be an integer/);
    expect(() => call({ ...good(), newLen: NaN })).toThrow(/params\.newLen must be an integer/);
  });

  it('refuses a property it does not know (a misspelt one would pass silently)', () => {
    expect(() => call({ ...good(), popluatePermille: 10 })).toThrow(
      new TypeError('benchCase: params.popluatePermille is not a benchCase parameter'),
    );
  });

  it('refuses a positional array, the old form', () => {
    expect(() => native.benchCase(new Float64Array(22) as never, new Float64Array(8))).toThrow(
      /params\.regionLo is missing/,
    );
  });
});

describe('timed samples never run in the Node process', () => {
  it('the native sampler refuses timed samples in-process', () => {
    const c = presetMatrix('quick').cases[0]!;
    const start = 16n << 40n;
    const l = layoutCase(c, { start, end: start + BigInt(arenaSizeFor(c)) });
    const params = nativeParams(c, l, {
      samples: 1,
      warmup: 0,
      cpu: -1,
      mode: 'in-process',
      seed: 1,
    });
    expect(() => native.benchCase(params, new Float64Array(1))).toThrow(
      "benchCase: timed samples run only in the forked sampler (mode 'isolated')",
    );
  });
});

describe('--pin that sched_setaffinity refuses', () => {
  const p = probe();
  const c = presetMatrix('quick').cases[0]!;
  it('fails the case with EINVAL (forked sampler)', () => {
    const o = runCase(c, { samples: 2, warmup: 0, pin: 1000, isolated: true }, p);
    expect(o.record.status).toBe('failed');
    expect(o.record.reason).toBe('sched_setaffinity to the --pin CPU failed: EINVAL');
    expect(o.record.samples).toEqual([]);
  });
});

// mremap_test.c remap_region() maps its 40 MiB destination preamble into a hole and memcpys
// random bytes over all of it as the last step before the clock; the copy leaves the caches
// cold for the timed move (docs/benchmarks.md, "The preamble case"). Populated with
// MADV_POPULATE_WRITE instead, its pages would read as zeros.
describe('the selftest preamble', () => {
  it('is one shared mapping below the destination, every word written with random bytes', () => {
    const c = presetMatrix('selftest').cases.find((x) => x.neighbour === 'selftest-preamble')!;
    const arena = Arena.reserve({
      size: BigInt(arenaSizeFor(c)),
      align: BigInt(GIB),
      interior: 'empty',
    });
    try {
      const l = layoutCase(c, arena);
      const params = nativeParams(c, l, {
        samples: 1,
        warmup: 0,
        cpu: -1,
        mode: 'observe',
        seed: 7,
      });
      const r = native.benchCase(params, new Float64Array(1));
      expect(r.ok && r.value.stage).toBe('none');
      expect(r.ok && r.value.result).toBe(BigInt(l.dst));
      const lo = BigInt(l.nbAddr);
      const hi = lo + BigInt(40 * MIB);
      expect(l.nbLen).toBe(40 * MIB);
      expect(hi).toBe(BigInt(l.dst));
      const snap = snapshot(process.pid, lo, hi, { pages: true, tags: false });
      expect(snap.vmas.map((v) => [v.start, v.end, v.prot, v.shared])).toEqual([
        [lo, hi, 'rw-', true],
      ]);
      expect(snap.pages.filter((p) => p.present)).toHaveLength(10240);
      const words = [0n, BigInt(20 * MIB + 8), BigInt(40 * MIB - 8)].map((off) => {
        const w = native.peekTag(0, lo + off);
        if (!w.ok) throw new Error(`peek errno ${w.errno}`);
        return w.value;
      });
      expect(words.every((w) => w !== 0n)).toBe(true);
      expect(new Set(words).size).toBe(3);
    } finally {
      arena.reset('empty');
      arena.release();
    }
  });
});

// mremap_test.c's first timed case is the first move of its process, after main() wrote a
// 40 MiB buffer and ran three failing cases: with firstShot the sampler repeats those steps
// before every sample, and the 8 KiB move is timed cold (about twice the warm samples on a
// quiet machine, 1.3x at load 8: docs/benchmarks.md "The 8 KiB case"). Without them the warm
// samples would pass for the selftest's shot. The fastest sample of each side is compared:
// a stall only makes a sample slower.
describe('the selftest first shot', () => {
  it('times the 8 KiB move slower than warm samples of the same case', () => {
    const p = probe();
    const first = presetMatrix('selftest').cases.find((x) => x.firstShot)!;
    const warm = { ...first, firstShot: false };
    const fastest = (c: BenchCase): number => {
      const o = runCase(c, { samples: 7, warmup: 1, pin: null, isolated: true }, p);
      expect(o.record.status).toBe('ok');
      return Math.min(...o.record.samples);
    };
    // Alternated, so a change of load hits both sides.
    const ratios = [0, 1, 2, 3, 4].map(() => fastest(first) / fastest(warm));
    expect(ratios.sort((a, b) => a - b)[2]).toBeGreaterThan(1.15);
  });
});
