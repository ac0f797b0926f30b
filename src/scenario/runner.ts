/**
 * Runs one scenario on two address spaces, step by step, and compares them after every
 * step: the call's result (value or errno), then the window's VMAs and pages. Explicit
 * expectations are checked on both sides. The first step where the two disagree is a
 * divergence and ends the scenario: later steps would only compound it.
 *
 * The runner holds both sides but knows neither: it drives the AddressSpace interface.
 * `Side` adapts how a side forks and explains itself. What a step does is the step codec's
 * (steps/); what a caller adds to a run (the fuzzer's invariants, a digest) plugs into the
 * hooks below.
 */
import type { AddressSpace, ChildId, Snapshot, VmaView } from '../space/address-space.js';
import { PAGE_SIZE } from '../space/constants.js';
import { formatResult, type Result } from '../space/result.js';
import { resolveAddr, type Bindings } from './address.js';
import { FrameLabeler, diffResults, diffSnapshots, presentFrames, showResult } from './diff.js';
import { clipOutside } from './clip.js';
import { drawLayout } from './draw.js';
import { inRange } from './kernel-range.js';
import { decodeStep, expectations } from './steps/decode.js';
import { describeStep } from './steps/describe.js';
import { executeStep, type StepContext, type StepOutcome } from './steps/execute.js';
import { LOAD_FAULTS, type Expect, type Scenario, type Step } from './types.js';

export interface Side {
  readonly name: 'kernel' | 'model';
  readonly space: AddressSpace;
  /** The space of a child made by fork(). */
  childSpace(parent: AddressSpace, child: ChildId): AddressSpace;
  /** The decision path of the last call (model only). */
  explain?(space: AddressSpace): string;
  /** Hint for the next unfixed placement (the model learns where the kernel put it). */
  placeNext?(addr: bigint | null): void;
}

export interface Divergence {
  step: number;
  call: string;
  kernel: string;
  model: string;
  differences: string[];
  kernelLayout: string;
  modelLayout: string;
  explain: string;
}

export interface ExpectationFailure {
  step: number;
  side: 'kernel' | 'model';
  message: string;
}

export interface RunOutcome {
  steps: number;
  divergence?: Divergence;
  expectationFailures: ExpectationFailure[];
  /** Expectations not checked because the side's version is outside their `kernels` range. */
  unchecked: string[];
  /** Last snapshots (for reports). */
  kernelLayout?: string;
  modelLayout?: string;
}

/** Per-side state: the step context (space, names, files, children) and the comparison's. */
interface SideRun extends StepContext {
  side: Side;
  root: AddressSpace;
  frames: FrameLabeler;
  last?: Snapshot;
  /** Ranges outside the arena that this side's calls placed memory in. */
  outside: [bigint, bigint][];
  /** The VMAs of the window alone (expectations speak of the window). */
  windowVmas?: VmaView[];
}

/** What the runner tells a hook about one side's step. */
export interface StepEvent {
  /** The step's index in the scenario. */
  index: number;
  step: Step;
  side: Side['name'];
  /** The space the side runs the step in (a child's after fork-continue). */
  space: AddressSpace;
}

export interface SnapshotEvent extends StepEvent {
  outcome: StepOutcome;
  /** The range snapshotted: the comparison window, or a range outside the arena. */
  range: [bigint, bigint];
  /** True for the window's snapshot (taken first), false for a range outside the arena. */
  window: boolean;
  snapshot: Snapshot;
}

export interface AfterStepEvent extends StepEvent {
  outcome: StepOutcome;
  /** What is compared: the window's snapshot with the ranges outside the arena added. */
  snapshot: Snapshot;
}

/**
 * Hooks into a run, called per side in the runner's order: for each step, beforeStep and
 * the step on the kernel side, then on the model side; then per side its snapshots (each
 * through `snapshot`) and afterStep; then the comparison. Several hook objects run in the
 * order given; a snapshot hook that returns a snapshot replaces it for the runner and the
 * hooks after it. A hook may throw to end the run: the runner does not catch.
 */
export interface RunnerHooks {
  beforeStep?(e: StepEvent): void;
  snapshot?(e: SnapshotEvent): Snapshot | undefined;
  afterStep?(e: AfterStepEvent): void;
}

export interface RunOptions {
  arenaStart: bigint;
  arenaEnd: bigint;
  /** Run only one side (the other is ignored): --kernel-only / --model-only. */
  only?: 'kernel' | 'model';
  /**
   * The VmFlags mnemonics the kernel prints (traits.vmflagMnemonics; null: all). An expected
   * flag this kernel never prints (6.1 has no 'lf') cannot be checked on either side.
   */
  vmflagsPrinted?: readonly string[] | null;
  /**
   * The version each side stands for — the kernel's release, the model profile's version —
   * against which an expectation's `kernels` range is judged. Absent: checked always.
   */
  versions?: { kernel?: string; model?: string };
  hooks?: readonly RunnerHooks[];
  /**
   * More differences for a step both sides ran, found outside the spaces' state
   * (validate --trace: the kernel's traced move plan against the model's).
   */
  stepDiffs?: (
    step: number,
    s: Step,
    spaces: { kernel: AddressSpace; model: AddressSpace },
  ) => string[];
}

/**
 * A real load at addr (space.load) against a LOAD_FAULTS value: null when it raised that
 * signal (and si_code), else what it did.
 */
function checkLoad(space: AddressSpace, addr: bigint, want: string): string | null {
  const got = space.load(addr);
  if (!got.ok) return formatResult(got);
  const o = got.value;
  if (want === 'nofault') return o.signal === null ? null : `${o.signal} ${o.code}`;
  if (o.signal === null) return `no fault (read 0x${o.value.toString(16)})`;
  const [sig, code] = want.startsWith('sig')
    ? [want.toUpperCase(), null]
    : [want.startsWith('segv') ? 'SIGSEGV' : 'SIGBUS', want.toUpperCase()];
  return o.signal === sig && (code === null || o.code === code) ? null : `${o.signal} ${o.code}`;
}

/** An expected maps-style protection: "rw-", or with /proc/PID/maps' p/s letter "rw-s". */
function protMatches(want: string, got: VmaView): boolean {
  const share = want[3];
  return got.prot === want.slice(0, 3) && (share === undefined || (share === 's') === got.shared);
}

export class ScenarioRunner {
  private readonly k: SideRun;
  private readonly m: SideRun;

  constructor(
    private readonly sc: Scenario,
    kernel: Side,
    model: Side,
    private readonly o: RunOptions,
  ) {
    const mk = (side: Side): SideRun => ({
      side,
      space: side.space,
      root: side.space,
      arenaStart: o.arenaStart,
      names: new Map(),
      files: new Map(),
      children: new Map(),
      childSpace: (parent, child) => side.childSpace(parent, child),
      frames: new FrameLabeler(),
      outside: [],
    });
    this.k = mk(kernel);
    this.m = mk(model);
  }

  private window(r: SideRun): [bigint, bigint] {
    const w = this.sc.window;
    if (!w) return [this.o.arenaStart, this.o.arenaEnd];
    const b = this.bindings(r);
    return [resolveAddr(w.from, b, '$.window.from'), resolveAddr(w.to, b, '$.window.to')];
  }

  private bindings(r: SideRun): Bindings {
    return { arenaStart: this.o.arenaStart, names: r.names };
  }

  private event(r: SideRun, index: number): StepEvent {
    return { index, step: this.sc.steps[index]!, side: r.side.name, space: r.space };
  }

  /** One snapshot, through the snapshot hooks. */
  private take(
    r: SideRun,
    ev: StepEvent & { outcome: StepOutcome },
    range: [bigint, bigint],
    window: boolean,
    opts: { pages: boolean; vmFlags: boolean },
  ): Snapshot {
    let snapshot = r.space.snapshot(range[0], range[1], opts);
    // Outside the arena, only the memory the kernel placed there is ours to compare.
    if (!window) snapshot = clipOutside(snapshot);
    for (const h of this.o.hooks ?? [])
      snapshot = h.snapshot?.({ ...ev, range, window, snapshot }) ?? snapshot;
    return snapshot;
  }

  private snap(r: SideRun, ev: StepEvent & { outcome: StepOutcome }): Snapshot {
    const opts = { pages: true, vmFlags: this.sc.compareVmFlags === true || this.needsFlags() };
    const main = this.take(r, ev, this.window(r), true, opts);
    r.windowVmas = [...main.vmas];
    // Memory the kernel placed outside the arena (a move or mmap without a fixed address)
    // is compared too: the model was told the kernel's choice, so both sides hold it there.
    for (const range of r.outside) {
      const x = this.take(r, ev, range, false, opts);
      main.vmas.push(...x.vmas.filter((v) => !main.vmas.some((m) => m.start === v.start)));
      main.pages.push(...x.pages);
    }
    r.last = main;
    return main;
  }

  private noteOutside(r: SideRun, addr: bigint, len: bigint): void {
    if (addr >= this.o.arenaStart && addr < this.o.arenaEnd) return;
    const end = addr + ((len + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n));
    if (!r.outside.some(([x, y]) => x === addr && y === end)) r.outside.push([addr, end]);
  }

  private needsFlagsCache: boolean | undefined;
  private needsFlags(): boolean {
    this.needsFlagsCache ??= this.sc.steps.some((s) =>
      expectations(s).some((e) => e.vmFlags !== undefined),
    );
    return this.needsFlagsCache;
  }

  run(): RunOutcome {
    const failures: ExpectationFailure[] = [];
    const unchecked: string[] = [];
    const sides =
      this.o.only === 'kernel' ? [this.k] : this.o.only === 'model' ? [this.m] : [this.k, this.m];
    for (const [i, step] of this.sc.steps.entries()) {
      const path = `$.steps[${i}]`;
      const call = decodeStep(step, i, path);
      const results = new Map<SideRun, StepOutcome>();
      // mm->map_count includes Node's own VMAs, which come and go in the background: the
      // model takes the kernel's count of them just before the step (vm.max_map_count checks).
      let outside: number | undefined;
      for (const r of sides) {
        if (r === this.m) this.m.side.placeNext?.(results.get(this.k)?.placed?.addr ?? null);
        if (r.space === r.root) {
          if (r === this.k) outside = r.space.outsideMapCount?.();
          else if (outside !== undefined) r.space.learnOutsideMapCount?.(outside);
        }
        for (const h of this.o.hooks ?? []) h.beforeStep?.(this.event(r, i));
        const out = executeStep(call, r, path);
        if (out.placed) this.noteOutside(r, out.placed.addr, out.placed.length);
        results.set(r, out);
      }
      for (const r of sides) {
        const ev = { ...this.event(r, i), outcome: results.get(r)! };
        const snapshot = this.snap(r, ev);
        for (const h of this.o.hooks ?? []) h.afterStep?.({ ...ev, snapshot });
      }
      if (sides.length === 2) {
        const kr = results.get(this.k)!;
        const mr = results.get(this.m)!;
        const diffs: string[] = [];
        const rd = diffResults(kr.result, mr.result, this.o.arenaStart);
        if (rd) diffs.push(rd);
        diffs.push(
          ...diffSnapshots(this.k.last!, this.m.last!, {
            base: this.o.arenaStart,
            vmFlags: this.sc.compareVmFlags === true,
            kFrames: this.k.frames,
            mFrames: this.m.frames,
          }),
        );
        if (this.o.stepDiffs)
          diffs.push(...this.o.stepDiffs(i, step, { kernel: this.k.space, model: this.m.space }));
        this.k.frames.retain(presentFrames(this.k.last!));
        this.m.frames.retain(presentFrames(this.m.last!));
        if (diffs.length > 0) {
          return {
            steps: i + 1,
            divergence: {
              step: i,
              call: describeStep(step),
              kernel: showResult(kr.result, this.o.arenaStart),
              model: showResult(mr.result, this.o.arenaStart),
              differences: diffs,
              kernelLayout: drawLayout(this.k.last!, this.o.arenaStart),
              modelLayout: drawLayout(this.m.last!, this.o.arenaStart),
              explain: this.m.side.explain?.(this.m.space) ?? '',
            },
            expectationFailures: failures,
            unchecked,
          };
        }
      }
      for (const [j, e] of expectations(step).entries()) {
        const epath = Array.isArray(step.expect) ? `${path}.expect[${j}]` : `${path}.expect`;
        for (const r of sides) {
          const v = this.o.versions?.[r.side.name];
          if (e.kernels !== undefined && v !== undefined && !inRange(v, e.kernels)) {
            unchecked.push(
              `step ${i}: expectation for kernels ${e.kernels} not checked on the ${r.side.name} (${v})`,
            );
            continue;
          }
          for (const msg of this.checkExpect(r, e, results.get(r)!.result, epath)) {
            failures.push({ step: i, side: r.side.name, message: msg });
          }
        }
      }
      if (failures.length > 0)
        return {
          steps: i + 1,
          expectationFailures: failures,
          unchecked,
          ...this.layouts(sides),
        };
    }
    return {
      steps: this.sc.steps.length,
      expectationFailures: failures,
      unchecked,
      ...this.layouts(sides),
    };
  }

  private layouts(sides: SideRun[]): { kernelLayout?: string; modelLayout?: string } {
    const out: { kernelLayout?: string; modelLayout?: string } = {};
    for (const r of sides) {
      if (!r.last) continue;
      const d = drawLayout(r.last, this.o.arenaStart);
      if (r === this.k) out.kernelLayout = d;
      else out.modelLayout = d;
    }
    return out;
  }

  /**
   * What `vmas` and `vmaCount` speak of: the scenario window's VMAs, or with `e.window` the
   * compared VMAs (the window's, and outside the arena those clipped to what a call placed
   * there) that intersect it, full extents as the scenario window shows them.
   */
  private expectWindow(
    r: SideRun,
    e: Expect,
    s: Snapshot,
    path: string,
  ): [Snapshot, VmaView[], string] {
    if (e.window === undefined) return [s, s.vmas, 'the window'];
    const b = this.bindings(r);
    const from = resolveAddr(e.window.from, b, `${path}.window.from`);
    const to = resolveAddr(e.window.to, b, `${path}.window.to`);
    const vmas = r
      .last!.vmas.filter((v) => v.start < to && v.end > from)
      .sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
    const pages = r.last!.pages.filter((p) => p.addr >= from && p.addr < to);
    const name = `the window ${e.window.from}..${e.window.to}`;
    return [{ start: from, end: to, vmas, pages }, vmas, name];
  }

  private checkExpect(r: SideRun, e: Expect, res: Result<unknown>, path: string): string[] {
    const out: string[] = [];
    const b = this.bindings(r);
    const shown = showResult(res, this.o.arenaStart);
    if (e.errno !== undefined && (res.ok || res.code !== e.errno))
      out.push(`expected ${e.errno}, got ${shown}`);
    if (e.ok === true && !res.ok) out.push(`expected success, got ${shown}`);
    if (e.ok === false && res.ok) out.push(`expected failure, got ${shown}`);
    if (e.ret !== undefined) {
      const want = resolveAddr(e.ret, b, `${path}.ret`);
      if (!res.ok || res.value !== want) out.push(`expected return ${e.ret}, got ${shown}`);
    }
    const s = { ...r.last!, vmas: r.windowVmas ?? r.last!.vmas };
    const vmaAt = (a: bigint) => s.vmas.findIndex((v) => v.start <= a && a < v.end);
    const [ws, wvmas, wname] = this.expectWindow(r, e, s, path);
    if (e.vmaCount !== undefined && wvmas.length !== e.vmaCount) {
      out.push(`expected ${e.vmaCount} VMAs in ${wname}, got ${wvmas.length}`);
    }
    if (e.vmas !== undefined) {
      const want = e.vmas.map((v, j) => ({
        start: resolveAddr(v.start, b, `${path}.vmas[${j}].start`),
        end: resolveAddr(v.end, b, `${path}.vmas[${j}].end`),
        prot: v.prot,
      }));
      const got = wvmas;
      const same =
        want.length === got.length &&
        want.every(
          (w, j) =>
            w.start === got[j]!.start &&
            w.end === got[j]!.end &&
            (w.prot === undefined || protMatches(w.prot, got[j]!)),
        );
      if (!same)
        out.push(
          `expected VMAs ${JSON.stringify(e.vmas)} in ${wname}, got:\n${drawLayout(ws, this.o.arenaStart)}`,
        );
    }
    if (e.merged !== undefined) {
      const idx = e.merged.map((a, j) => vmaAt(resolveAddr(a, b, `${path}.merged[${j}]`)));
      if (idx.some((x) => x < 0 || x !== idx[0]))
        out.push(`expected ${e.merged.join(', ')} in one VMA`);
    }
    if (e.separate !== undefined) {
      const idx = e.separate.map((a, j) => vmaAt(resolveAddr(a, b, `${path}.separate[${j}]`)));
      if (new Set(idx).size !== idx.length || idx.includes(-1))
        out.push(`expected ${e.separate.join(', ')} in different VMAs`);
    }
    const page = (a: bigint) => s.pages.find((p) => p.addr === (a & ~(PAGE_SIZE - 1n)));
    for (const [a, want] of Object.entries(e.present ?? {})) {
      const p = page(resolveAddr(a, b, `${path}.present`));
      if ((p?.present ?? false) !== want)
        out.push(`expected ${a} ${want ? 'present' : 'not present'}`);
    }
    for (const [a, want] of Object.entries(e.thp ?? {})) {
      const p = page(resolveAddr(a, b, `${path}.thp`));
      if (p?.thpUnknown !== true && (p?.thp ?? false) !== want)
        out.push(`expected ${a} ${want ? '' : 'not '}THP-mapped`);
    }
    for (const [a, want] of Object.entries(e.tags ?? {})) {
      const addr = resolveAddr(a, b, `${path}.tags`);
      if (typeof want === 'string' && LOAD_FAULTS.includes(want)) {
        const msg = checkLoad(r.space, addr, want);
        if (msg !== null) out.push(`expected a load of ${a} to give ${want}, got ${msg}`);
        continue;
      }
      const got = r.space.read(addr);
      if (want === 'fault') {
        if (got.ok || got.code !== 'EFAULT')
          out.push(`expected a fault reading ${a}, got ${formatResult(got)}`);
      } else {
        const w = want === 'zero' ? 0n : BigInt(want);
        if (!got.ok || got.value !== w)
          out.push(`expected tag 0x${w.toString(16)} at ${a}, got ${formatResult(got)}`);
      }
    }
    for (const [a, flags] of Object.entries(e.vmFlags ?? {})) {
      const i = vmaAt(resolveAddr(a, b, `${path}.vmFlags`));
      const have = new Set(i < 0 ? [] : (s.vmas[i]!.vmFlags ?? []));
      const printed = this.o.vmflagsPrinted;
      for (const f of flags) {
        const neg = f.startsWith('!');
        const name = neg ? f.slice(1) : f;
        if (printed && !printed.includes(name)) continue;
        if (have.has(name) === neg)
          out.push(
            `expected VmFlag ${name} ${neg ? 'clear' : 'set'} at ${a}; VmFlags: ${[...have].join(' ')}`,
          );
      }
    }
    return out;
  }
}
