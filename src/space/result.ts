/**
 * Results, not exceptions, for kernel answers: an errno is data the user came to see.
 * Both the kernel side and the model return these; exceptions are kept for programmer
 * errors (bad arguments) and broken environments.
 */
import { errnoName, type ErrnoCode } from './errno.js';

export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

export interface Err {
  readonly ok: false;
  /** Positive errno number, as the kernel would put in errno. */
  readonly errno: number;
  /** Symbolic name, e.g. 'EINVAL'. */
  readonly code: ErrnoCode;
}

export type Result<T> = Ok<T> | Err;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err(errno: number): Err {
  return { ok: false, errno, code: errnoName(errno) };
}

/** Renders a result the way strace would: the value, or -1 ERRNO. */
export function formatResult(r: Result<unknown>): string {
  if (!r.ok) return `-1 ${r.code}`;
  const v = r.value;
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  return String(v);
}
