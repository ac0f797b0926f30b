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

interface Parsed {
  page?: bigint;
  name?: string;
  pages: bigint;
  bytes: bigint;
}

function parseAddr(expr: string): Parsed | null {
  const m = HEAD_RE.exec(expr);
  if (!m) return null;
  const head = m[1]!;
  const out: Parsed = { pages: 0n, bytes: 0n };
  if (head.startsWith('@')) out.page = BigInt(head.slice(1));
  else out.name = head;
  for (const t of m[2]!.matchAll(TERM_RE)) {
    const sign = t[1] === '-' ? -1n : 1n;
    const v = t[2]!;
    if (v.endsWith('b') && !v.startsWith('0x')) out.bytes += sign * BigInt(v.slice(0, -1));
    else out.pages += sign * BigInt(v);
  }
  return out;
}

/** Checks the form of an address expression without resolving names. */
export function checkAddrExpr(expr: unknown, path: string): void {
  if (typeof expr !== 'string') {
    throw new ScenarioInputError('expected an address string such as "@4" or "src+1"', path);
  }
  if (expr.startsWith('=')) {
    if (parseInt64(expr.slice(1)) === null) {
      throw new ScenarioInputError(
        `"${expr}" is not an absolute address like "=0x7ffffffff000"`,
        path,
      );
    }
    return;
  }
  if (!parseAddr(expr)) {
    throw new ScenarioInputError(
      `"${expr}" is not an address: use "@N" (page N of the arena), "name", "name+K" (pages) or add "+Nb" (decimal bytes)`,
      path,
    );
  }
}

export function resolveAddr(expr: AddrExpr, b: Bindings, path: string): bigint {
  checkAddrExpr(expr, path);
  if (expr.startsWith('=')) return parseInt64(expr.slice(1))!;
  const p = parseAddr(expr)!;
  let base: bigint;
  if (p.page !== undefined) {
    base = b.arenaStart + p.page * PAGE_SIZE;
  } else {
    const v = b.names.get(p.name!);
    if (v === undefined) {
      throw new ScenarioInputError(
        `unknown name "${p.name}": bind it with a map step's "name" first`,
        path,
      );
    }
    base = v;
  }
  return base + p.pages * PAGE_SIZE + p.bytes;
}

/** Bytes from the arena start for an "@N…" expression; undefined for names and "=0x…". */
export function arenaOffset(expr: AddrExpr): bigint | undefined {
  const p = parseAddr(expr);
  if (!p || p.page === undefined) return undefined;
  return (p.page + p.pages) * PAGE_SIZE + p.bytes;
}

/** The name an expression refers to, if it is exactly a bound name (no offsets). */
export function exprName(expr: AddrExpr): string | undefined {
  const p = parseAddr(expr);
  if (!p || p.name === undefined || p.pages !== 0n || p.bytes !== 0n) return undefined;
  return p.name;
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
