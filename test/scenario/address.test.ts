import { describe, expect, it } from 'vitest';
import {
  exprName,
  resolveAddr,
  resolveLen,
  ScenarioInputError,
} from '../../src/scenario/address.js';

const b = { arenaStart: 0x100000000000n, names: new Map([['src', 0x100000004000n]]) };

describe('address expressions', () => {
  it('resolves arena pages, names, page and byte offsets', () => {
    expect(resolveAddr('@0', b, '$')).toBe(0x100000000000n);
    expect(resolveAddr('@0x1fff', b, '$')).toBe(0x100000000000n + 0x1fff000n);
    expect(resolveAddr('src', b, '$')).toBe(0x100000004000n);
    expect(resolveAddr('src+2', b, '$')).toBe(0x100000006000n);
    expect(resolveAddr('src-1', b, '$')).toBe(0x100000003000n);
    expect(resolveAddr('@3+1b', b, '$')).toBe(0x100000003001n);
    expect(resolveAddr('src+1-4095b', b, '$')).toBe(0x100000004001n);
    // 0x… is always pages, even when it ends in b.
    expect(resolveAddr('@0+0x1b', b, '$')).toBe(0x100000000000n + 0x1bn * 4096n);
    expect(resolveAddr('=0x7ffffffff000', b, '$')).toBe(0x7ffffffff000n);
  });

  it('names only plain names', () => {
    expect(exprName('src')).toBe('src');
    expect(exprName('src+1')).toBeUndefined();
    expect(exprName('@4')).toBeUndefined();
  });

  it('resolves lengths as pages or u64 bytes with wrap-around', () => {
    expect(resolveLen(513, '$')).toBe(513n * 4096n);
    expect(resolveLen('4095b', '$')).toBe(4095n);
    expect(resolveLen('-1b', '$')).toBe((1n << 64n) - 1n);
  });

  it('reports the path and the expected form for bad input', () => {
    expect(() => resolveAddr('src*2', b, '$.steps[1].at')).toThrow(ScenarioInputError);
    try {
      resolveAddr('nope+1', b, '$.steps[2].to');
    } catch (e) {
      expect((e as ScenarioInputError).path).toBe('$.steps[2].to');
      expect((e as Error).message).toContain('unknown name "nope"');
    }
    expect(() => resolveLen('0x10b', '$')).toThrow(/decimal bytes/);
    expect(() => resolveLen(-1, '$')).toThrow(/non-negative/);
  });
});
