/**
 * `validate --trace`: every mremap step of a scenario is made with the plan observer on,
 * and the move_page_tables() walks the kernel took are compared with the plans the model
 * recorded for the same step. A difference is a divergence like any other; a level the
 * kernel did not let us observe is "cannot verify" (plan-verdict.ts), never a pass.
 */
import type { KernelSpace } from '../kernel/kernel-space.js';
import type { TracerStatus } from '../kernel/trace/discover.js';
import type { TraceInstance } from '../kernel/trace/observer.js';
import { parseTraceText, walksOf, type TracedWalk } from '../kernel/trace/parse.js';
import type { ModelSpace } from '../model/address-space.js';
import type { AddressSpace, ChildId, RemapArgs } from '../space/address-space.js';
import { MREMAP } from '../space/constants.js';
import type { Result } from '../space/result.js';
import { comparePlans, type LevelRow } from './plan-verdict.js';
import type { Side } from './runner.js';
import type { Step } from './types.js';

const PMD = 0x200000n;

/** One mremap step: the model's plans and the kernel's walks, level by level. */
export interface PlanCheck {
  step: number;
  /** One row set per move_page_tables() call, in call order (the longer side's count). */
  walks: LevelRow[][];
  /** "plan differs: model 2 PMD, kernel 1 PTE + 1 PMD", or null. */
  divergence: string | null;
}

/**
 * The ranges below the call's addresses that can_align_down() (mm/mremap.c, 6.7+,
 * af8ca1c14906) searches with find_vma_intersection(mm, addr & PMD_MASK, addr), for the
 * source and for the new VMA at new_addr. The model sees holes there; in this process the
 * arena's placeholders would stand in them as VMAs and refuse a realignment the kernel
 * would make for a program without them. Only a destination the caller chose is known
 * before the call (FIXED, or DONTUNMAP's hint); the kernel's own pick is outside the arena.
 */
export function alignDownRanges(a: RemapArgs): { start: bigint; end: bigint }[] {
  const below = (addr: bigint) => ({ start: addr - (addr % PMD), end: addr });
  const out = [below(a.addr)];
  if ((a.flags & (MREMAP.FIXED | MREMAP.DONTUNMAP)) !== 0n) out.push(below(a.newAddr));
  return out.filter((r) => r.end > r.start);
}

/** The traced walks of the last kernel mremap, until the step's comparison takes them. */
interface Pending {
  walks: TracedWalk[];
}

/**
 * Wraps the kernel side so that its mremap calls are observed, and compares each mremap
 * step's walks with the model's plans (ScenarioRunner's stepDiffs).
 */
export class PlanTracer {
  readonly checks: PlanCheck[] = [];
  private pending: Pending | null = null;

  constructor(
    private readonly status: TracerStatus,
    private readonly instance: TraceInstance,
  ) {}

  private traced(space: KernelSpace): AddressSpace {
    const remap = (a: RemapArgs): Result<bigint> => {
      // A fork child has no placeholders (MADV_DONTFORK): its holes are already holes.
      const own = space.pid === 0;
      if (own) space.arena.open(alignDownRanges(a));
      try {
        const pid = own ? process.pid : space.pid;
        const obs = this.instance.observe(pid, () => space.remap(a));
        this.pending = { walks: walksOf(parseTraceText(obs.text), pid) };
        return obs.value;
      } finally {
        if (own) space.arena.fill();
      }
    };
    return new Proxy(space, {
      get: (t, p) => {
        if (p === 'remap') return remap;
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  }

  /** The kernel side with every mremap observed, in this process and in fork children. */
  wrap(side: Side): Side {
    return {
      ...side,
      space: this.traced(side.space as KernelSpace),
      childSpace: (parent: AddressSpace, child: ChildId) =>
        this.traced(side.childSpace(parent, child) as KernelSpace),
    };
  }

  /** ScenarioRunner's stepDiffs: the plan divergence of an mremap step, if any. */
  readonly stepDiffs = (
    index: number,
    step: Step,
    spaces: { kernel: AddressSpace; model: AddressSpace },
  ): string[] => {
    const p = this.pending;
    this.pending = null;
    if (step.op !== 'mremap' || p === null) return [];
    const model = (spaces.model as ModelSpace).lastTrace.plans;
    if (model.length === 0 && p.walks.length === 0) return [];
    const c = comparePlans(model, p.walks, this.status.targets);
    this.checks.push({ step: index, ...c });
    return c.divergence === null ? [] : [c.divergence];
  };
}
