/**
 * The in-process differential loop: one arena reused for every case (`arena.reset`), the
 * kernel side and the model side wrapped around ScenarioRunner without changing it.
 *
 * The wrappers (Proxies over the two AddressSpaces) add what the fuzzer needs beyond the
 * runner's comparison:
 *  - kernel-only invariants after every mremap (the tags of the moved range are found at
 *    the destination, nothing outside the source and destination ranges changed, no VMA
 *    reaches past the arena's guards), raised as an InvariantViolation from the kernel's
 *    snapshot, which ends the run at that step;
 *  - a record of the model's per-step results and final snapshot, which the C exporter
 *    embeds as the expected behaviour.
 */
import { Arena } from '../../kernel/arena.js';
import { ArenaError } from '../../kernel/errors.js';
import { KernelSpace } from '../../kernel/kernel-space.js';
import type { ProbeResult } from '../../kernel/probe.js';
import type { ModelTraits } from '../../model/traits.js';
import type { ModelSpace } from '../../model/address-space.js';
import { summarizePlan } from '../../model/page-tables.js';
import type { Profile } from '../../model/profiles.js';
import { formatTrace } from '../../model/trace.js';
import type {
  AddressSpace,
  ChildId,
  PageView,
  RemapArgs,
  Snapshot,
  VmaView,
} from '../../space/address-space.js';
import { MREMAP, PAGE_SIZE } from '../../space/constants.js';
import { ok, type Result } from '../../space/result.js';
import { parseAlign, resolveAddr } from '../address.js';
import { showResult } from '../diff.js';
import { drawLayout } from '../draw.js';
import { newModel } from '../execute.js';
import { ScenarioRunner, type Divergence, type Side } from '../runner.js';
import { describeStep } from '../steps/describe.js';
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

const GUARD = PAGE_SIZE;

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  constructor(
    readonly details: string[],
    readonly snapshot: Snapshot,
  ) {
    super(details.join('; '));
  }
}

/** Methods whose results make up a step's result (runner.exec calls exactly these). */
const CALLS = new Set([
  'map',
  'unmap',
  'protect',
  'advise',
  'remap',
  'lock',
  'unlock',
  'seal',
  'uffdRegister',
  'memfd',
  'touch',
  'read',
  'fork',
  'release',
]);

/** The step's result as ScenarioRunner computes it from the calls it made. */
function stepResult(step: Step, calls: Result<unknown>[]): Result<unknown> {
  const failed = calls.find((c) => !c.ok);
  if (failed) return failed;
  if (step.op === 'map' || step.op === 'mremap') return calls[calls.length - 1] ?? ok(0);
  if (step.op === 'read') return calls[calls.length - 1] ?? ok(0n);
  return ok(0);
}

function bind<T extends object>(target: T, over: Partial<Record<string | symbol, unknown>>): T {
  return new Proxy(target, {
    get(t, k) {
      if (k in over) return over[k];
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

interface KernelState {
  prev: Snapshot | null;
  remap: { args: RemapArgs; result: Result<bigint> } | null;
  arenaStart: bigint;
  arenaEnd: bigint;
  window: [bigint, bigint];
  /** Snapshots taken: the runner takes one per step, so this is the step count. */
  snaps: number;
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
function checkRemap(st: KernelState, after: Snapshot, space: AddressSpace): string[] {
  const out: string[] = [];
  const before = st.prev;
  const call = st.remap;
  if (!before || !call) return out;
  const { args, result } = call;
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
  return s.vmas
    .filter((v) => v.start < st.arenaStart - GUARD || v.end > st.arenaEnd + GUARD)
    .map(
      (v) => `VMA [${rel(v.start, st.arenaStart)}, ${rel(v.end, st.arenaStart)}) escaped the arena`,
    );
}

/**
 * Outside the arena, the kernel's placement may put moved memory next to the process's own
 * VMAs (V8 heap, libraries), and a merge with them is none of the model's business: there
 * only the range the call placed memory in is compared, clipped on both sides alike.
 */
function clipOutside(s: Snapshot): Snapshot {
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

function kernelSpaceWrapped(space: KernelSpace, st: KernelState): AddressSpace {
  return bind(space, {
    remap: (a: RemapArgs) => {
      const r = space.remap(a);
      st.remap = { args: a, result: r };
      return r;
    },
    snapshot: (s: bigint, e: bigint, o?: Parameters<AddressSpace['snapshot']>[2]) => {
      const snap = space.snapshot(s, e, o);
      // The runner also snapshots ranges outside the arena that calls placed memory in;
      // the step's own snapshot is the window's.
      if (s !== st.window[0] || e !== st.window[1]) return clipOutside(snap);
      st.snaps++;
      const bad = [...escaped(st, snap), ...checkRemap(st, snap, space)];
      // On a violation st.remap stays, for the report.
      if (bad.length) throw new InvariantViolation(bad, snap);
      st.prev = { ...snap, vmas: [...snap.vmas], pages: [...snap.pages] };
      st.remap = null;
      return snap;
    },
  });
}

interface ModelRec {
  records: ModelStepRecord[];
  calls: Result<unknown>[];
  step: number;
}

function modelSpaceWrapped(
  space: ModelSpace,
  rec: ModelRec | null,
  steps: Step[],
  window: [bigint, bigint],
): AddressSpace {
  const over: Record<string, unknown> = {
    snapshot: (s: bigint, e: bigint, o?: Parameters<AddressSpace['snapshot']>[2]) => {
      const snap = space.snapshot(s, e, o);
      if (s !== window[0] || e !== window[1]) return clipOutside(snap);
      const step = rec ? steps[rec.step] : undefined;
      if (rec && step && rec.records.length === rec.step)
        // A copy: the runner appends the ranges outside the arena to the object it got.
        rec.records.push({
          result: stepResult(step, rec.calls),
          snapshot: { ...snap, vmas: [...snap.vmas], pages: [...snap.pages] },
        });
      return snap;
    },
  };
  if (rec) {
    for (const k of CALLS) {
      over[k] = (...args: unknown[]) => {
        const f = (space as unknown as Record<string, (...a: unknown[]) => Result<unknown>>)[k]!;
        const r = f.apply(space, args);
        rec.calls.push(r);
        return r;
      };
    }
  }
  return bind(space, over);
}

function explainModel(s: AddressSpace): string {
  const t = (s as ModelSpace).lastTrace;
  const plans = t.plans.map((p) => summarizePlan(p)).join('\n');
  return [formatTrace(t), plans].filter(Boolean).join('\n');
}

/** The runner's comparison window, for arena-relative windows (names: the whole arena). */
function windowOf(sc: Scenario, start: bigint, end: bigint): [bigint, bigint] {
  if (!sc.window) return [start, end];
  try {
    const b = { arenaStart: start, names: new Map<string, bigint>() };
    return [
      resolveAddr(sc.window.from, b, '$.window.from'),
      resolveAddr(sc.window.to, b, '$.window.to'),
    ];
  } catch {
    return [start, end];
  }
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
    const window = windowOf(sc, arena.start, arena.end);
    const st: KernelState = {
      prev: null,
      remap: null,
      arenaStart: arena.start,
      arenaEnd: arena.end,
      window,
      snaps: 0,
    };
    const rec: ModelRec | null = opts.record ? { records: [], calls: [], step: -1 } : null;
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
    const kSide: Side = {
      name: 'kernel',
      space: kernelSpaceWrapped(kernel, st),
      childSpace: (_p: AddressSpace, child: ChildId) =>
        kernelSpaceWrapped(kernel.forkSpace(child), st),
    };
    const mSide: Side = {
      name: 'model',
      space: modelSpaceWrapped(model, rec, sc.steps, window),
      childSpace: (p: AddressSpace, child: ChildId) => {
        const c = (p as ModelSpace).child(child);
        if (!c) throw new Error(`model: no child ${child}`);
        return modelSpaceWrapped(c, rec, sc.steps, window);
      },
      explain: explainModel,
      placeNext: (addr) => {
        hint.next = addr;
        if (rec) {
          rec.step++;
          rec.calls = [];
        }
      },
    };
    const out: CaseOutcome = { steps: 0, arenaStart: arena.start, arenaEnd: arena.end, window };
    try {
      const runner = new ScenarioRunner(sc, kSide, mSide, {
        arenaStart: arena.start,
        arenaEnd: arena.end,
      });
      try {
        const r = runner.run();
        out.steps = r.steps;
        if (r.divergence) out.failure = { ...r.divergence, kind: 'divergence' };
      } catch (e) {
        if (!(e instanceof InvariantViolation)) throw e;
        const i = Math.max(0, st.snaps - 1);
        const step = sc.steps[i];
        out.steps = i + 1;
        out.failure = {
          kind: 'invariant',
          step: i,
          call: step ? describeStep(step) : '?',
          kernel: st.remap ? showResult(st.remap.result, arena.start) : '',
          model: '',
          differences: e.details,
          kernelLayout: drawLayout(e.snapshot, arena.start),
          modelLayout: '',
          explain: '',
        };
      }
      if (rec) out.model = rec.records;
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
