/**
 * The one parser of an mremap flags word. mremap() takes `unsigned long flags` and rejects
 * any bit outside what it knows (mm/mremap.c check_mremap_params), so a bit above 31 is a
 * real input: it must reach the kernel and the model as the same 64-bit value, never
 * through JavaScript's 32-bit `|`.
 */
import { MREMAP } from './constants.js';

const U64_MAX = (1n << 64n) - 1n;

/** A flags word as a user may write it: 3, "0x100000003", "MAYMOVE|FIXED", or a list of these. */
export type FlagSpec = number | bigint | string | readonly (number | string)[];

/** A flags spelling that is not a 64-bit word; `index` is the list item at fault. */
export class FlagSyntaxError extends Error {
  override readonly name = 'FlagSyntaxError';
  constructor(
    message: string,
    readonly index?: number,
  ) {
    super(message);
  }
}

const HOW =
  `use ${Object.keys(MREMAP).join(', ')} (joined with "|"), ` +
  'a non-negative integer, or a "0x..." string for bits above 2^53';

function word(part: unknown, index?: number): bigint {
  if (typeof part === 'bigint') {
    if (part < 0n || part > U64_MAX) {
      throw new FlagSyntaxError(`flags ${part} do not fit in 64 bits`, index);
    }
    return part;
  }
  if (typeof part === 'number') {
    // Above 2^53 a JSON number is already rounded: the bits the user wrote are gone.
    if (!Number.isSafeInteger(part) || part < 0) {
      throw new FlagSyntaxError(
        `flags ${part} is not a non-negative integer below 2^53; ${HOW}`,
        index,
      );
    }
    return BigInt(part);
  }
  if (typeof part !== 'string')
    throw new FlagSyntaxError(`flags must not be ${typeof part}; ${HOW}`, index);
  let v = 0n;
  for (const raw of part.split('|')) {
    const p = raw.trim();
    if (p === '') continue;
    if (/^(0x[0-9a-f]+|\d+)$/i.test(p)) {
      v |= BigInt(p);
      continue;
    }
    const bit = (MREMAP as Record<string, bigint>)[p.toUpperCase().replace(/^MREMAP_/, '')];
    if (bit === undefined) throw new FlagSyntaxError(`unknown mremap flag "${p}"; ${HOW}`, index);
    v |= bit;
  }
  if (v > U64_MAX) throw new FlagSyntaxError(`flags "${part}" do not fit in 64 bits`, index);
  return v;
}

/** The flags word of any accepted spelling (a list ORs its items). Throws FlagSyntaxError. */
export function parseMremapFlags(spec: FlagSpec | undefined): bigint {
  if (spec === undefined) return 0n;
  if (!Array.isArray(spec)) return word(spec);
  let v = 0n;
  for (const [i, f] of (spec as readonly unknown[]).entries()) v |= word(f, i);
  return v;
}
