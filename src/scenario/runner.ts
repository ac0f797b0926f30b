/**
 * Runs one scenario on two address spaces, step by step, and compares them after every
 * step: the call's result (value or errno), then the window's VMAs and pages. Explicit
 * expectations are checked on both sides. The first step where the two disagree is a
 * divergence and ends the scenario: later steps would only compound it.
 *
 * The runner holds both sides but knows neither: it drives the AddressSpace interface.
 * `Side` adapts how a side forks and explains itself.
 */
import type {
  AddressSpace,
  ChildId,
  FileId,
  MapArgs,
  Snapshot,
  VmaView,
} from '../space/address-space.js';
import { MADV, MAP, MLOCK, PAGE_SIZE, PROT, mremapFlagNames } from '../space/constants.js';
import { FlagSyntaxError, parseMremapFlags, type FlagSpec } from '../space/flags.js';
import { formatResult, ok, type Result } from '../space/result.js';
import { exprName, resolveAddr, resolveLen, ScenarioInputError, type Bindings } from './address.js';
import { FrameLabeler, diffResults, diffSnapshots, presentFrames, showResult } from './diff.js';
import { drawLayout } from './draw.js';
import { inRange } from './kernel-range.js';
import type { Expect, MapStep, Scenario, Step } from './types.js';

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

const PROT_BITS: Record<string, number> = { r: PROT.READ, w: PROT.WRITE, x: PROT.EXEC };

export function parseProt(p: string | undefined, path: string): number {
  if (p === undefined) return PROT.READ | PROT.WRITE;
  if (p === 'none' || p === '---' || p === '') return PROT.NONE;
  let v = 0;
  for (const ch of p) {
    if (ch === '-') continue;
    const bit = PROT_BITS[ch];
    if (bit === undefined)
      throw new ScenarioInputError(
        `unknown protection "${p}": use letters r, w, x or "none"`,
        path,
      );
    v |= bit;
  }
  return v;
}

/** A step's mremap flags as the full unsigned long (space/flags.ts is the only parser). */
export function parseFlags(flags: FlagSpec | undefined, path: string): bigint {
  try {
    return parseMremapFlags(flags);
  } catch (e) {
    if (!(e instanceof FlagSyntaxError)) throw e;
    throw new ScenarioInputError(e.message, e.index === undefined ? path : `${path}[${e.index}]`);
  }
}

export function parseAdvice(a: string | number, path: string): number {
  if (typeof a === 'number') return a;
  const v = (MADV as Record<string, number>)[a.replace(/^MADV_/, '')];
  if (v === undefined)
    throw new ScenarioInputError(
      `unknown madvise advice "${a}": use e.g. DONTNEED, HUGEPAGE, POPULATE_WRITE`,
      path,
    );
  return v;
}

/** The raw MAP_* bits of a map step (also used by the C exporter). */
export function mapStepFlags(step: MapStep): number {
  const kind = step.kind ?? 'anon';
  let flags = kind === 'anon' || kind === 'memfd-private' ? MAP.PRIVATE : MAP.SHARED;
  if (kind === 'anon' || kind === 'shared') flags |= MAP.ANONYMOUS;
  const placement = step.placement ?? 'fixed';
  if (placement === 'fixed') flags |= MAP.FIXED;
  if (placement === 'noreplace') flags |= MAP.FIXED_NOREPLACE;
  if (step.noreserve) flags |= MAP.NORESERVE;
  if (step.populate) flags |= MAP.POPULATE;
  if (step.locked) flags |= MAP.LOCKED;
  if (step.hugetlb) flags |= MAP.HUGETLB;
  return flags;
}

/** Per-side state: the current space (parent or child), names, files, children. */
interface SideRun {
  side: Side;
  space: AddressSpace;
  root: AddressSpace;
  names: Map<string, bigint>;
  files: Map<string, FileId>;
  children: Map<string, { parent: AddressSpace; id: ChildId }>;
  frames: FrameLabeler;
  last?: Snapshot;
  /** Ranges outside the arena that this side's calls placed memory in. */
  outside: [bigint, bigint][];
  /** The VMAs of the window alone (expectations speak of the window). */
  windowVmas?: VmaView[];
}

interface StepResult {
  result: Result<unknown>;
  /** For moves: the address the space returned (to rebind names). */
  moved?: bigint;
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
  /** Called with each side's result and snapshot after every step (the profile matrix). */
  onStep?: (step: number, side: Side['name'], result: Result<unknown>, snapshot: Snapshot) => void;
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

/** A step's expectations as a list (the format allows one object or an array). */
export function expectations(step: Step): Expect[] {
  return step.expect === undefined ? [] : Array.isArray(step.expect) ? step.expect : [step.expect];
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
      names: new Map(),
      files: new Map(),
      children: new Map(),
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

  private snap(r: SideRun): Snapshot {
    const [s, e] = this.window(r);
    const opts = { pages: true, vmFlags: this.sc.compareVmFlags === true || this.needsFlags() };
    const main = r.space.snapshot(s, e, opts);
    r.windowVmas = [...main.vmas];
    // Memory the kernel placed outside the arena (a move or mmap without a fixed address)
    // is compared too: the model was told the kernel's choice, so both sides hold it there.
    for (const [xs, xe] of r.outside) {
      const x = r.space.snapshot(xs, xe, opts);
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
      const results = new Map<SideRun, StepResult>();
      for (const r of sides) {
        if (r === this.m) this.m.side.placeNext?.(results.get(this.k)?.moved ?? null);
        results.set(r, this.exec(r, step, i, path));
      }
      for (const r of sides) {
        this.snap(r);
        this.o.onStep?.(i, r.side.name, results.get(r)!.result, r.last!);
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

  private exec(r: SideRun, step: Step, index: number, path: string): StepResult {
    const b = this.bindings(r);
    const sp = r.space;
    const at = (e: string, p = 'at') => resolveAddr(e, b, `${path}.${p}`);
    switch (step.op) {
      case 'map': {
        const kind = step.kind ?? 'anon';
        const flags = mapStepFlags(step);
        const args: MapArgs = {
          addr: at(step.at),
          length: resolveLen(step.len, `${path}.len`),
          prot: parseProt(step.prot, `${path}.prot`),
          flags,
        };
        if (kind === 'memfd' || kind === 'memfd-private') {
          const f = step.file === undefined ? undefined : r.files.get(step.file);
          if (f === undefined)
            throw new ScenarioInputError(
              `a ${kind} mapping needs "file": the name of an earlier memfd step`,
              `${path}.file`,
            );
          args.file = f;
          args.offset = BigInt(step.offset ?? 0) * PAGE_SIZE;
        }
        const res = sp.map(args);
        if (res.ok && step.name) r.names.set(step.name, res.value);
        if (res.ok) this.noteOutside(r, res.value, args.length);
        return { result: res, ...(res.ok ? { moved: res.value } : {}) };
      }
      case 'memfd': {
        const res = sp.memfd(BigInt(step.pages) * PAGE_SIZE);
        if (res.ok) r.files.set(step.name, res.value);
        return { result: res.ok ? ok(0) : res };
      }
      case 'munmap':
        return { result: sp.unmap(at(step.at), resolveLen(step.len, `${path}.len`)) };
      case 'mseal':
        return { result: sp.seal(at(step.at), resolveLen(step.len, `${path}.len`)) };
      case 'uffd':
        return { result: sp.uffdRegister(at(step.at), resolveLen(step.len, `${path}.len`)) };
      case 'munlock':
        return { result: sp.unlock(at(step.at), resolveLen(step.len, `${path}.len`)) };
      case 'mlock':
        return {
          result: sp.lock(
            at(step.at),
            resolveLen(step.len, `${path}.len`),
            step.onfault ? MLOCK.ONFAULT : 0,
          ),
        };
      case 'mprotect':
        return {
          result: sp.protect(
            at(step.at),
            resolveLen(step.len, `${path}.len`),
            parseProt(step.prot, `${path}.prot`),
          ),
        };
      case 'madvise':
        return {
          result: sp.advise(
            at(step.at),
            resolveLen(step.len, `${path}.len`),
            parseAdvice(step.advice, `${path}.advice`),
          ),
        };
      case 'mremap': {
        const newLen = resolveLen(step.newLen, `${path}.newLen`);
        const res = sp.remap({
          addr: at(step.at),
          oldLen: resolveLen(step.oldLen, `${path}.oldLen`),
          newLen,
          flags: parseFlags(step.flags, `${path}.flags`),
          newAddr: step.to === undefined ? 0n : at(step.to, 'to'),
        });
        if (res.ok) {
          this.noteOutside(r, res.value, newLen);
          const name = step.name ?? exprName(step.at);
          if (name !== undefined) r.names.set(name, res.value);
        }
        return { result: res, ...(res.ok ? { moved: res.value } : {}) };
      }
      case 'touch': {
        const base = at(step.at);
        const tag = BigInt(step.tag ?? (index + 1) * 0x1000);
        for (let p = 0; p < (step.pages ?? 1); p++) {
          const res = sp.touch(base + BigInt(p) * PAGE_SIZE, tag + BigInt(p));
          if (!res.ok) return { result: res };
        }
        return { result: ok(0) };
      }
      case 'read': {
        const base = at(step.at);
        let last: Result<bigint> = ok(0n);
        for (let p = 0; p < (step.pages ?? 1); p++) {
          last = sp.read(base + BigInt(p) * PAGE_SIZE);
          if (!last.ok) return { result: last };
        }
        return { result: last };
      }
      case 'fork':
      case 'fork-continue': {
        const res = sp.fork();
        if (!res.ok) return { result: res };
        if (step.name) r.children.set(step.name, { parent: sp, id: res.value });
        if (step.op === 'fork-continue') r.space = r.side.childSpace(sp, res.value);
        return { result: ok(0) };
      }
      case 'release': {
        const c = r.children.get(step.child);
        if (!c)
          throw new ScenarioInputError(
            `unknown child "${step.child}": name it in a fork step`,
            `${path}.child`,
          );
        return { result: c.parent.release(c.id) };
      }
      case 'check':
        return { result: ok(0) };
    }
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
    if (e.vmaCount !== undefined && s.vmas.length !== e.vmaCount) {
      out.push(`expected ${e.vmaCount} VMAs in the window, got ${s.vmas.length}`);
    }
    if (e.vmas !== undefined) {
      const want = e.vmas.map((v, j) => ({
        start: resolveAddr(v.start, b, `${path}.vmas[${j}].start`),
        end: resolveAddr(v.end, b, `${path}.vmas[${j}].end`),
        prot: v.prot,
      }));
      const got = s.vmas;
      const same =
        want.length === got.length &&
        want.every(
          (w, j) =>
            w.start === got[j]!.start &&
            w.end === got[j]!.end &&
            (w.prot === undefined || got[j]!.prot === w.prot.slice(0, 3)),
        );
      if (!same)
        out.push(
          `expected VMAs ${JSON.stringify(e.vmas)}, got:\n${drawLayout(s, this.o.arenaStart)}`,
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

/** "mremap(@0, 4 pages, 4 pages, MAYMOVE|FIXED, @8)" */
export function describeStep(s: Step): string {
  const len = (l: number | string) =>
    typeof l === 'number' ? `${l} page${l === 1 ? '' : 's'}` : l;
  switch (s.op) {
    case 'map':
      return `mmap(${s.at}, ${len(s.len)}, ${s.prot ?? 'rw'}, ${s.kind ?? 'anon'}${s.hugetlb ? ' hugetlb' : ''}${s.placement && s.placement !== 'fixed' ? `, ${s.placement}` : ''})${s.name ? ` as ${s.name}` : ''}`;
    case 'mremap':
      return `mremap(${s.at}, ${len(s.oldLen)}, ${len(s.newLen)}, ${mremapFlagNames(parseFlags(s.flags, 'flags'))}${s.to ? `, ${s.to}` : ''})`;
    case 'mprotect':
      return `mprotect(${s.at}, ${len(s.len)}, ${s.prot})`;
    case 'madvise':
      return `madvise(${s.at}, ${len(s.len)}, ${s.advice})`;
    case 'touch':
    case 'read':
      return `${s.op}(${s.at}${s.pages ? `, ${s.pages} pages` : ''})`;
    case 'munmap':
    case 'mseal':
    case 'uffd':
    case 'munlock':
    case 'mlock':
      return `${s.op}(${s.at}, ${len(s.len)})`;
    case 'memfd':
      return `memfd(${s.pages} pages) as ${s.name}`;
    case 'fork':
    case 'fork-continue':
      return s.op;
    case 'release':
      return `release(${s.child})`;
    case 'check':
      return 'check';
  }
}
