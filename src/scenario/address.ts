/**
 * Arena-relative address and length expressions.
 *   @N           page N of the arena (N decimal or 0x hex)
 *   name         the start of a named mapping (rebound when mremap moves it)
 *   name+K       K pages into it (name-K: below it)
 *   …+Nb         plus N raw bytes (decimal, then "b"), for unaligned cases: "@3+1b", "src+2048b"
 *   =0x7ff…      an absolute address (outside the arena: only for calls the kernel rejects)
 * Terms may repeat ("src+2-1b"). A term is bytes only when it is decimal digits then "b";
 * "0x…" is always hex pages, so "0x800b" means 0x800b pages.
 * Lengths: a number of pages, or "Nb" raw decimal bytes ("4095b", "-1b" = 2^64-1).
 */
import { PAGE_SIZE } from '../space/constants.js';
import { arenaAlignProblem } from '../space/arena-align.js';
import type { AddrExpr, LenExpr } from './types.js';

export class ScenarioInputError extends Error {
  override readonly name = 'ScenarioInputError';
  constructor(
    message: string,
    /** JSON path inside the scenario, e.g. "$.steps[3].at". */
    readonly path: string,
  ) {
    super(message);
  }
}

const U64 = 1n << 64n;

function parseInt64(s: string): bigint | null {
  const t = s.trim();
  if (/^-?0x[0-9a-f]+$/i.test(t)) return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  if (/^-?\d+$/.test(t)) return BigInt(t);
  return null;
}

export interface Bindings {
  arenaStart: bigint;
  names: Map<string, bigint>;
}

const HEAD_RE = /^(@(?:0x[0-9a-f]+|\d+)|[A-Za-z_][\w.]*)((?:[+-](?:\d+b|0x[0-9a-f]+|\d+))*)$/i;
const TERM_RE = /([+-])(\d+b|0x[0-9a-f]+|\d+)/gi;

/**
 * An address expression taken apart: bytes from the arena start, bytes from a name's
 * address, or an absolute address. The one parser of the syntax: the runner resolves these
 * against its bindings, the C exporter turns them into C expressions, load checks bound them.
 */
export type AddrParts =
  | { base: 'arena'; offset: bigint }
  | { base: 'name'; name: string; offset: bigint }
  | { base: 'absolute'; addr: bigint };

/** The head ("@N" or a name) and the summed page and byte terms of a relative expression. */
function split(expr: string): { head: string; pages: bigint; bytes: bigint } | null {
  const m = HEAD_RE.exec(expr);
  if (!m) return null;
  let pages = 0n;
  let bytes = 0n;
  for (const t of m[2]!.matchAll(TERM_RE)) {
    const sign = t[1] === '-' ? -1n : 1n;
    const v = t[2]!;
    if (v.endsWith('b') && !v.startsWith('0x')) bytes += sign * BigInt(v.slice(0, -1));
    else pages += sign * BigInt(v);
  }
  return { head: m[1]!, pages, bytes };
}

function parseAddr(expr: string): AddrParts | null {
  if (expr.startsWith('=')) {
    const v = parseInt64(expr.slice(1));
    return v === null ? null : { base: 'absolute', addr: v };
  }
  const t = split(expr);
  if (!t) return null;
  if (t.head.startsWith('@'))
    return { base: 'arena', offset: (BigInt(t.head.slice(1)) + t.pages) * PAGE_SIZE + t.bytes };
  return { base: 'name', name: t.head, offset: t.pages * PAGE_SIZE + t.bytes };
}

/** Takes an address expression apart; throws ScenarioInputError naming `path` if it is none. */
export function addrParts(expr: unknown, path: string): AddrParts {
  if (typeof expr !== 'string') {
    throw new ScenarioInputError('expected an address string such as "@4" or "src+1"', path);
  }
  const p = parseAddr(expr);
  if (p) return p;
  if (expr.startsWith('=')) {
    throw new ScenarioInputError(
      `"${expr}" is not an absolute address like "=0x7ffffffff000"`,
      path,
    );
  }
  throw new ScenarioInputError(
    `"${expr}" is not an address: use "@N" (page N of the arena), "name", "name+K" (pages) or add "+Nb" (decimal bytes)`,
    path,
  );
}

/** Checks the form of an address expression without resolving names. */
export function checkAddrExpr(expr: unknown, path: string): void {
  addrParts(expr, path);
}

export function resolveAddr(expr: AddrExpr, b: Bindings, path: string): bigint {
  const p = addrParts(expr, path);
  if (p.base === 'absolute') return p.addr;
  if (p.base === 'arena') return b.arenaStart + p.offset;
  const v = b.names.get(p.name);
  if (v === undefined) {
    throw new ScenarioInputError(
      `unknown name "${p.name}": bind it with a map step's "name" first`,
      path,
    );
  }
  return v + p.offset;
}

/** Bytes from the arena start for an "@N…" expression; undefined for names and "=0x…". */
export function arenaOffset(expr: AddrExpr): bigint | undefined {
  const p = parseAddr(expr);
  return p?.base === 'arena' ? p.offset : undefined;
}

/** The name an expression refers to, if it is exactly a bound name (no offsets). */
export function exprName(expr: AddrExpr): string | undefined {
  const t = split(expr);
  if (!t || t.head.startsWith('@') || t.pages !== 0n || t.bytes !== 0n) return undefined;
  return t.head;
}

export function checkLenExpr(len: unknown, path: string): void {
  if (typeof len === 'number') {
    if (!Number.isSafeInteger(len) || len < 0)
      throw new ScenarioInputError(
        `expected a non-negative whole number of pages, got ${len}`,
        path,
      );
    return;
  }
  if (typeof len !== 'string' || !/^-?\d+b$/.test(len)) {
    throw new ScenarioInputError(
      `expected pages (a number) or decimal bytes ("4095b", "-1b"), got ${JSON.stringify(len)}`,
      path,
    );
  }
}

/** Resolves to a u64 byte count (negative byte counts wrap, as a C caller's would). */
export function resolveLen(len: LenExpr, path: string): bigint {
  checkLenExpr(len, path);
  if (typeof len === 'number') return BigInt(len) * PAGE_SIZE;
  const v = parseInt64(len.slice(0, -1))!;
  return ((v % U64) + U64) % U64;
}

const SIZE_RE = /^(\d+)([KMG])$/i;

export function parseAlign(s: string | undefined, path: string): bigint {
  if (s === undefined) return 2n * 1024n * 1024n;
  const m = SIZE_RE.exec(s);
  const mult: Record<string, bigint> = { K: 1024n, M: 1024n * 1024n, G: 1024n * 1024n * 1024n };
  if (!m)
    throw new ScenarioInputError(`expected an alignment like "4K", "2M" or "1G", got "${s}"`, path);
  const align = BigInt(m[1]!) * mult[m[2]!.toUpperCase()]!;
  const problem = arenaAlignProblem(align);
  if (problem !== null) throw new ScenarioInputError(`"${s}": ${problem}`, path);
  return align;
}
