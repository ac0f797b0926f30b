/**
 * Which arena alignments exist: a power of two from one page to one PUD (1 GiB). Both the
 * kernel arena (Arena.reserve) and scenario loading check against this, so a scenario that
 * asks for an alignment no arena can have is refused when it is read, not in a worker.
 */
import { PAGE_SIZE, PUD_SIZE } from './constants.js';

export const ARENA_ALIGN_MIN = PAGE_SIZE;
export const ARENA_ALIGN_MAX = PUD_SIZE;

/** What is wrong with `align` as an arena alignment, or null when it is allowed. */
export function arenaAlignProblem(align: bigint): string | null {
  if (align < ARENA_ALIGN_MIN || align > ARENA_ALIGN_MAX || (align & (align - 1n)) !== 0n) {
    return `an arena alignment must be a power of two from 4K to 1G (4K, 8K, …, 2M, …, 1G), got ${align} bytes`;
  }
  return null;
}
