/**
 * The in-process differential loop: one arena reused for every case (`arena.reset`), the
 * kernel and the model driven by ScenarioRunner, whose hooks add what the fuzzer needs
 * beyond the runner's comparison:
 *  - kernel-only invariants after every step (the tags of a moved range are found at the
 *    destination, nothing outside the source and destination ranges changed, no VMA
 *    reaches past the arena's guards), raised as an InvariantViolation from the kernel's
 *    window snapshot, which ends the run at that step;
 *  - a record of the model's per-step results and window snapshots, which the C exporter
 *    embeds as the expected behaviour;
 *  - outside the arena, snapshots clipped to the range the call placed memory in.
 */
import { Arena } from '../../kernel/arena.js';
import { ArenaError } from '../../kernel/errors.js';
import { KernelSpace } from '../../kernel/kernel-space.js';
import type { ProbeResult } from '../../kernel/probe.js';
import type { ModelTraits } from '../../model/traits.js';
import type { Profile } from '../../model/profiles.js';
import type {
  AddressSpace,
  PageView,
  RemapArgs,
  Snapshot,
  VmaView,
} from '../../space/address-space.js';
import { guardedSpan } from '../../space/arena-guards.js';
import { MREMAP, PAGE_SIZE } from '../../space/constants.js';
import { ok, type Result } from '../../space/result.js';
import { parseAlign } from '../address.js';
import { showResult } from '../diff.js';
import { drawLayout } from '../draw.js';
import { kernelSide, newModel } from '../execute.js';
import { modelSide } from '../model-side.js';
import { ScenarioRunner, type Divergence, type RunnerHooks } from '../runner.js';
import { describeStep } from '../steps/describe.js';
import type { StepOutcome } from '../steps/execute.js';
import type { Scenario, Step } from '../types.js';

export interface HarnessContext {
  probe: ProbeResult;
  profile: Profile;
  /** The traits the model is told (default: the probe's). */
  traits?: ModelTraits;
  /** Arena (and comparison window) size in pages. */
  pages: number;
  /** Arena alignment ("2M" default). */
  align?: string;
}

export interface Failure extends Divergence {
  /** divergence: kernel and model differ; invariant: the kernel broke a rule on its own. */
  kind: 'divergence' | 'invariant';
}

/** What the model did in one step: its result and the window afterwards. */
export interface ModelStepRecord {
  result: Result<unknown>;
  snapshot: Snapshot;
}

export interface CaseOutcome {
  /** Steps carried out (the failing one included). */
  steps: number;
  failure?: Failure;
  /** Only when asked for (record: true). */
  model?: ModelStepRecord[];
  arenaStart: bigint;
  arenaEnd: bigint;
  /** The comparison window (the arena unless the scenario names one). */
  window: [bigint, bigint];
}

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  constructor(
    /** The step after which the kernel broke the rule. */
    readonly step: number,
    readonly details: string[],
    readonly snapshot: Snapshot,
    /** That step's outcome on the kernel. */
    readonly outcome: StepOutcome,
  ) {
    super(details.join('; '));
  }
}

interface KernelState {
  /** The kernel's window after the previous step. */
  prev: Snapshot | null;
  arenaStart: bigint;
  arenaEnd: bigint;
}

function pageMap(s: Snapshot): Map<bigint, PageView> {
  return new Map(s.pages.map((p) => [p.addr, p]));
}

function vmaAt(s: Snapshot, a: bigint): VmaView | undefined {
  return s.vmas.find((v) => v.start <= a && a < v.end);
}

/** Per page outside the moved ranges: what is mapped there and the data. */
function pageKey(s: Snapshot, p: PageView | undefined, a: bigint): string {
  const v = vmaAt(s, a);
  const m = v
    ? `${v.prot}${v.shared ? 's' : 'p'} ${v.kind}${v.kind === 'file' ? `+${v.offset + (a - v.start)}` : ''}`
    : 'hole';
  if (!p?.present) return `${m} -`;
  return `${m} ${p.zero ? 'zero' : (p.tag?.toString(16) ?? '?')}`;
}

const rel = (a: bigint, base: bigint): string => showResult(ok(a), base);

/** Kernel-only rules for one mremap, from the snapshots before and after it. */
function checkRemap(
  st: KernelState,
  call: { args: RemapArgs; result: Result<unknown> },
  after: Snapshot,
  space: AddressSpace,
): string[] {
  const out: string[] = [];
  const before = st.prev;
  if (!before) return out;
  const { args } = call;
  const result = call.result as Result<bigint>;
  const base = st.arenaStart;
  const al = (x: bigint) => (x + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
  const oldLen = al(args.oldLen);
  const newLen = al(args.newLen);
  const ranges: [bigint, bigint][] = [[args.addr, args.addr + (oldLen > newLen ? oldLen : newLen)]];
  if ((args.flags & (MREMAP.FIXED | MREMAP.DONTUNMAP)) !== 0n)
    ranges.push([args.newAddr, args.newAddr + newLen]);
  if (result.ok) ranges.push([result.value, result.value + newLen]);
  const inRanges = (a: bigint) => ranges.some(([s, e]) => s <= a && a < e);
  const pb = pageMap(before);
  const pa = pageMap(after);
  const changed: string[] = [];
  for (let a = after.start; a < after.end; a += PAGE_SIZE) {
    if (inRanges(a)) continue;
    const kb = pageKey(before, pb.get(a), a);
    const ka = pageKey(after, pa.get(a), a);
    if (kb !== ka) changed.push(`${rel(a, base)}: ${kb} → ${ka}`);
  }
  if (changed.length)
    out.push(`outside the moved ranges the kernel changed: ${changed.slice(0, 6).join(', ')}`);
  if (result.ok && oldLen > 0n) {
    // Data written before the move is found at the destination (private anonymous pages:
    // shared and file pages may come back through the page cache, unmapped).
    const dest = result.value;
    const keep = oldLen < newLen ? oldLen : newLen;
    const inWindow = dest >= after.start && dest + keep <= after.end;
    const destSnap = inWindow ? after : space.snapshot(dest, dest + keep, { pages: true });
    const pd = pageMap(destSnap);
    const lost: string[] = [];
    for (let off = 0n; off < keep; off += PAGE_SIZE) {
      const p = pb.get(args.addr + off);
      const v = vmaAt(before, args.addr + off);
      if (!p?.present || p.zero || p.tag === null || p.tag === 0n || !v) continue;
      if (v.shared || v.kind !== 'anon') continue;
      const q = pd.get(dest + off);
      if (!q?.present || q.tag !== p.tag)
        lost.push(
          `${rel(args.addr + off, base)} tag 0x${p.tag.toString(16)} → ${rel(dest + off, base)} ${q?.present ? `0x${(q.tag ?? 0n).toString(16)}` : 'not present'}`,
        );
    }
    if (lost.length) out.push(`data not found at the destination: ${lost.slice(0, 6).join(', ')}`);
  }
  return out;
}

function escaped(st: KernelState, s: Snapshot): string[] {
  const [lo, hi] = guardedSpan(st.arenaStart, st.arenaEnd);
  return s.vmas
    .filter((v) => v.start < lo || v.end > hi)
    .map(
      (v) => `VMA [${rel(v.start, st.arenaStart)}, ${rel(v.end, st.arenaStart)}) escaped the arena`,
    );
}

/**
 * The fuzzer's hooks into one run in the arena [arenaStart, arenaEnd): kernel invariants on
 * the kernel's window after every step (an InvariantViolation names the step), the model's
 * record when `records` is given.
 * `seen.window` is set to the comparison window as the runner resolved it.
 */
export function fuzzHooks(
  arenaStart: bigint,
  arenaEnd: bigint,
  records: ModelStepRecord[] | null,
  seen: { window?: [bigint, bigint] } = {},
): RunnerHooks {
  const st: KernelState = { prev: null, arenaStart, arenaEnd };
  return {
    snapshot: ({ index, side, space, outcome, range, window, snapshot }) => {
      if (!window) return undefined; // the runner has clipped it (clip.ts)
      if (side === 'model') {
        // A copy: the runner appends the ranges outside the arena to the object it got.
        records?.push({
          result: outcome.result,
          snapshot: { ...snapshot, vmas: [...snapshot.vmas], pages: [...snapshot.pages] },
        });
        return undefined;
      }
      seen.window ??= range;
      const bad = escaped(st, snapshot);
      if (outcome.remap)
        bad.push(
          ...checkRemap(st, { args: outcome.remap, result: outcome.result }, snapshot, space),
        );
      if (bad.length) throw new InvariantViolation(index, bad, snapshot, outcome);
      st.prev = { ...snapshot, vmas: [...snapshot.vmas], pages: [...snapshot.pages] };
      return undefined;
    },
  };
}

/** Runs scenarios back to back in one reused arena (a fresh, empty interior each time). */
export class Harness {
  private arena: Arena | null = null;

  constructor(readonly ctx: HarnessContext) {}

  private arenaFor(): Arena {
    if (this.arena) {
      this.arena.reset('empty');
      return this.arena;
    }
    this.arena = Arena.reserve({
      size: BigInt(this.ctx.pages) * PAGE_SIZE,
      align: parseAlign(this.ctx.align, '$.arena.align'),
      interior: 'empty',
    });
    return this.arena;
  }

  scenario(steps: Step[], id = 'fuzz-case'): Scenario {
    return {
      id,
      title: 'fuzz case',
      source: 'mremap-lab fuzz',
      arena: { pages: this.ctx.pages, align: this.ctx.align ?? '2M' },
      steps,
    };
  }

  /** Runs one case. ArenaError (a generator bug, not a finding) propagates. */
  run(sc: Scenario, opts: { record?: boolean } = {}): CaseOutcome {
    const arena = this.arenaFor();
    const kernel = new KernelSpace(arena);
    const records: ModelStepRecord[] | null = opts.record ? [] : null;
    const seen: { window?: [bigint, bigint] } = {};
    const hint = { next: null as bigint | null };
    const model = newModel(
      {
        probe: this.ctx.probe,
        profile: this.ctx.profile,
        ...(this.ctx.traits ? { traits: this.ctx.traits } : {}),
      },
      arena.start,
      arena.end,
      hint,
    );
    const out: CaseOutcome = {
      steps: 0,
      arenaStart: arena.start,
      arenaEnd: arena.end,
      window: [arena.start, arena.end],
    };
    try {
      const runner = new ScenarioRunner(sc, kernelSide(kernel), modelSide(model, hint), {
        arenaStart: arena.start,
        arenaEnd: arena.end,
        hooks: [fuzzHooks(arena.start, arena.end, records, seen)],
      });
      try {
        const r = runner.run();
        out.steps = r.steps;
        if (r.divergence) out.failure = { ...r.divergence, kind: 'divergence' };
      } catch (e) {
        if (!(e instanceof InvariantViolation)) throw e;
        const step = sc.steps[e.step];
        out.steps = e.step + 1;
        out.failure = {
          kind: 'invariant',
          step: e.step,
          call: step ? describeStep(step) : '?',
          kernel: e.outcome.remap ? showResult(e.outcome.result, arena.start) : '',
          model: '',
          differences: e.details,
          kernelLayout: drawLayout(e.snapshot, arena.start),
          modelLayout: '',
          explain: '',
        };
      }
      if (seen.window) out.window = seen.window;
      if (records) out.model = records;
      return out;
    } finally {
      kernel.dispose();
    }
  }

  dispose(): void {
    this.arena?.release();
    this.arena = null;
  }
}

export { ArenaError };
