// The bench parameters cross into C++ as one object read by name (native/timing.cc
// ReadParams): what TypeScript builds is accepted, and a missing, mistyped, out-of-range or
// unknown property is a TypeError that names it, before anything is mapped.
import { describe, expect, it } from 'vitest';
import { emptyBracketParams } from '../../src/bench/layout.js';
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
