/**
 * The guard pages around an arena, as src/kernel/arena.ts maps them: one PROT_NONE page on
 * each side for the arena's whole life, so an in-place growth can never run past the
 * arena's end. The model maps the same guards (scenario/model-side.ts), the fuzzer's
 * invariants and the C reproducer bound placements by them: the geometry is written here
 * once, free of the native addon so model-only tools can use it.
 */
import { MAP, PAGE_SIZE } from './constants.js';

/** 16 TiB: where arenas are reserved from; far below a 47-bit mmap_base (~128 TiB), far above brk and the binary. */
export const ARENA_HINT_BASE = 0x1000_0000_0000n;

/** Size of each guard. */
export const ARENA_GUARD = PAGE_SIZE;

/** How the reservation and its guards are mapped (PROT_NONE, with MAP_FIXED[_NOREPLACE]). */
export const ARENA_RESERVE_FLAGS = MAP.PRIVATE | MAP.ANONYMOUS | MAP.NORESERVE;

/** The two guards of the arena [start, end): below it and above it. */
export function arenaGuards(start: bigint, end: bigint): [bigint, bigint][] {
  return [
    [start - ARENA_GUARD, start],
    [end, end + ARENA_GUARD],
  ];
}

/** The arena with its guards: [start - guard, end + guard). */
export function guardedSpan(start: bigint, end: bigint): [bigint, bigint] {
  return [start - ARENA_GUARD, end + ARENA_GUARD];
}
