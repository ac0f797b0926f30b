/**
 * Programmer errors (bad arguments) throw; kernel answers never do. ArenaError is thrown
 * before any syscall when an address-changing call would reach outside the arenas the tool
 * reserved.
 */
export class ArenaError extends Error {
  override readonly name = 'ArenaError';
  constructor(
    message: string,
    readonly addr: bigint,
    readonly length: bigint,
  ) {
    super(message);
  }
}

const U64_MAX = (1n << 64n) - 1n;

export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** Checks that `value` is a bigint in u64 range; names the parameter when it is not. */
export function requireU64(name: string, value: unknown): bigint {
  if (typeof value !== 'bigint') {
    throw new TypeError(`${name} must be a bigint (got ${typeof value}); write e.g. 4096n`);
  }
  if (value < 0n || value > U64_MAX) {
    throw new RangeError(`${name} must be between 0 and 2^64-1 (got ${value})`);
  }
  return value;
}

/** Checks that `value` is a non-negative safe integer (flag words, prot bits). */
export function requireInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be an integer number (got ${String(value)})`);
  }
  if (value < 0) throw new RangeError(`${name} must not be negative (got ${value})`);
  return value;
}
