/**
 * Shared plan-comparison fixtures: Linus's example 1 as the 6.6 and 6.7 models plan it, the
 * walk 6.1 takes for it, and tracer statuses with every target probed or some inlined.
 */
import { explainRemap } from '../../src/model/explain.js';
import type { TargetStatus } from '../../src/kernel/trace/discover.js';
import { emptyWalk, type TracedWalk } from '../../src/kernel/trace/parse.js';
import { TARGETS } from '../../src/kernel/trace/targets.js';

const call = { old: 0x1fff000n, new: 0x0fff000n, len: 0x201000n };
export const plan66 = explainRemap({ profile: 'linux-6.6', ...call }).plans[0]!;
export const plan67 = explainRemap({ profile: 'linux-6.7', ...call }).plans[0]!;

export const allProbed: TargetStatus[] = TARGETS.map((t) => ({
  fn: t.fn,
  symbol: t.fn,
  inKallsyms: true,
  inFilterFunctions: true,
  kprobe: 'ok',
  withArgs: true,
}));

/** allProbed with `fns` inlined away, as Debian's 6.1 and 6.12 have them. */
export const inline = (fns: string[]): TargetStatus[] =>
  allProbed.map((t) =>
    fns.includes(t.fn)
      ? {
          ...t,
          symbol: null,
          inKallsyms: false,
          kprobe: 'not a symbol (inlined or absent)',
          withArgs: false,
        }
      : t,
  );

/** What 6.1 does for example 1 (no realign): one PTE, then one PMD entry. */
export const walk61: TracedWalk = {
  ...emptyWalk(),
  old: 0x1fff000n,
  new: 0xfff000n,
  len: 0x201000n,
  moved: 0x201000n,
  ptes: [{ old: 0x1fff000n, end: 0x2000000n }],
  calls: { ...emptyWalk().calls, move_normal_pmd: [{ old: 0x2000000n, moved: true }] },
};
