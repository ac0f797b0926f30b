/**
 * Outside the arena, the kernel's placement may put moved or hinted memory next to the
 * process's own VMAs (V8 heap, libraries), and a merge with them is none of the model's
 * business: there only the range the call placed memory in is compared, clipped on both
 * sides alike (the runner, for `validate` and `fuzz` both).
 */
import type { Snapshot } from '../space/address-space.js';

export function clipOutside(s: Snapshot): Snapshot {
  return {
    ...s,
    vmas: s.vmas.map((v) => ({
      ...v,
      start: v.start < s.start ? s.start : v.start,
      end: v.end > s.end ? s.end : v.end,
      offset: v.start < s.start && v.kind === 'file' ? v.offset + (s.start - v.start) : v.offset,
    })),
  };
}
