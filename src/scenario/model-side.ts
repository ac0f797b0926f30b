/**
 * The model's half of a scenario run, free of kernel imports so that model-only tools (the
 * profile matrix) can build it without the native addon: the arena's guard pages as
 * Arena.reserve leaves them, and the runner's Side for a ModelSpace.
 */
import type { ModelSpace } from '../model/address-space.js';
import { summarizePlan } from '../model/page-tables.js';
import { formatTrace } from '../model/trace.js';
import type { AddressSpace, ChildId } from '../space/address-space.js';
import { ARENA_RESERVE_FLAGS, arenaGuards } from '../space/arena-guards.js';
import { MAP, PROT } from '../space/constants.js';
import type { Side } from './runner.js';

/** Maps the arena's guard pages into the model exactly as Arena.reserve leaves them. */
export function addGuards(m: ModelSpace, start: bigint, end: bigint): void {
  const flags = ARENA_RESERVE_FLAGS | MAP.FIXED;
  for (const [gs, ge] of arenaGuards(start, end))
    m.map({ addr: gs, length: ge - gs, prot: PROT.NONE, flags });
}

/**
 * The model's placeUnfixed option fed from `hint`: where an unfixed mapping lands is the
 * kernel's choice (ASLR, the gap search), so the model takes the kernel's answer, once, and
 * checks everything else. modelSide's placeNext fills the hint before each step.
 */
export function placeFromHint(hint: { next: bigint | null }): () => bigint | null {
  return () => {
    const h = hint.next;
    hint.next = null;
    return h;
  };
}

/**
 * A model as a runner side. `name` is 'kernel' when a model stands in for a kernel (the
 * profile matrix); `hint` receives the other side's placement of unfixed mappings.
 */
export function modelSide(
  space: ModelSpace,
  hint?: { next: bigint | null },
  name: Side['name'] = 'model',
): Side {
  const side: Side = {
    name,
    space,
    childSpace: (parent: AddressSpace, child: ChildId) => {
      const c = (parent as ModelSpace).child(child);
      if (!c) throw new Error(`model: no child ${child}`);
      return c;
    },
    explain: (s: AddressSpace) => {
      const t = (s as ModelSpace).lastTrace;
      const plans = t.plans.map((p) => summarizePlan(p)).join('\n');
      return [formatTrace(t), plans].filter(Boolean).join('\n');
    },
  };
  if (hint !== undefined) {
    side.placeNext = (addr) => {
      hint.next = addr;
    };
  }
  return side;
}
