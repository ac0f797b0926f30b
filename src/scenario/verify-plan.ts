/**
 * `explain --verify`: the explained call, made for real with the plan observer on. The
 * layout is rebuilt in an arena shifted by a multiple of 1 GiB, so every address keeps its
 * offset within the PMD and the PUD and its distance to the others; it runs in a fork
 * child, whose holes are plain holes (no placeholders: MADV_DONTFORK), as can_align_down()
 * must see them, and whose one thread is the pid the trace is limited to.
 */
import type { ExplainResult } from '../model/explain.js';
import { Arena } from '../kernel/arena.js';
import { KernelSpace } from '../kernel/kernel-space.js';
import { discoverTracer, type TracerStatus } from '../kernel/trace/discover.js';
import { observe } from '../kernel/trace/observer.js';
import { parseTraceText, walksOf, type TracedWalk } from '../kernel/trace/parse.js';
import { native } from '../native.js';
import { MADV, MAP, PROT } from '../space/constants.js';
import { formatResult, type Result } from '../space/result.js';
import { comparePlan, kernelCounts, planDivergence, type LevelRow } from './plan-verdict.js';

const GiB = 1n << 30n;
/** Address space only (NORESERVE): a layout may span this many PUDs. */
const MAX_SPAN = 64n * GiB;

export class VerifyInputError extends Error {
  override readonly name = 'VerifyInputError';
}

export interface VerifyResult {
  release: string;
  status: TracerStatus;
  /** What was added to every address of the explained call. */
  shift: bigint;
  result: string;
  walks: TracedWalk[];
  plans: { rows: LevelRow[]; divergence: string | null }[];
  traceText: string;
}

function spanOf(x: ExplainResult): { lo: bigint; hi: bigint } {
  const c = x.call;
  let lo = c.newAddr < c.addr ? c.newAddr : c.addr;
  let hi = c.addr + c.oldLen;
  if (c.newAddr + c.newLen > hi) hi = c.newAddr + c.newLen;
  if (c.addr + c.newLen > hi) hi = c.addr + c.newLen;
  for (const l of x.layout) {
    if (l.start < lo) lo = l.start;
    if (l.end > hi) hi = l.end;
  }
  return { lo: (lo / GiB) * GiB, hi: ((hi + GiB - 1n) / GiB) * GiB };
}

/** Maps and faults the layout in the child, as explainRemap() does in the model. */
function build(space: KernelSpace, x: ExplainResult, shift: bigint): void {
  for (const l of x.layout) {
    const flags = (l.shared ? MAP.SHARED : MAP.PRIVATE) | MAP.ANONYMOUS | MAP.FIXED;
    const len = l.end - l.start;
    const r = space.map({ addr: l.start + shift, length: len, prot: l.prot, flags });
    if (!r.ok)
      throw new VerifyInputError(`cannot map layout entry 0x${l.start.toString(16)}: ${r.code}`);
    // The model's "faulted" is base pages unless the entry says thp: keep khugepaged's
    // and the fault path's THPs out of a range the model thinks is PTE-mapped.
    const a = space.advise(l.start + shift, len, l.thp ? MADV.HUGEPAGE : MADV.NOHUGEPAGE);
    if (!a.ok) throw new VerifyInputError(`madvise on 0x${l.start.toString(16)}: ${a.code}`);
    if (l.faulted && (l.prot & PROT.WRITE) !== 0) {
      const p = space.advise(l.start + shift, len, MADV.POPULATE_WRITE);
      if (!p.ok) throw new VerifyInputError(`populating 0x${l.start.toString(16)}: ${p.code}`);
    }
  }
}

/** The walk in the explained call's addresses: every traced address minus the shift. */
export const unshift = (w: TracedWalk, s: bigint): TracedWalk => {
  const f = (v: bigint | null): bigint | null => (v === null ? null : v - s);
  return {
    ...w,
    old: f(w.old),
    new: f(w.new),
    ptes: w.ptes.map((p) => ({ old: f(p.old), end: f(p.end) })),
    callees: w.callees.map((c) =>
      c.kind === 'flush' ? { ...c, start: f(c.start), end: f(c.end) } : c,
    ),
    calls: Object.fromEntries(
      Object.entries(w.calls).map(([k, v]) => [k, v.map((c) => ({ ...c, old: f(c.old) }))]),
    ) as TracedWalk['calls'],
  };
};

export function verifyPlan(x: ExplainResult, status?: TracerStatus): VerifyResult {
  const release = native.unameRelease();
  const st = status ?? discoverTracer(release);
  const { lo, hi } = spanOf(x);
  if (hi - lo > MAX_SPAN)
    throw new VerifyInputError(
      `the call and layout span 0x${(hi - lo).toString(16)} bytes; --verify rebuilds at most ${MAX_SPAN / GiB} GiB`,
    );
  const base = {
    release,
    status: st,
    shift: 0n,
    result: 'not run',
    walks: [],
    traceText: '',
  };
  if (st.problem !== null) {
    return {
      ...base,
      plans: x.plans
        .map((p) => ({ rows: comparePlan(p, undefined, st.targets), divergence: null }))
        .map((p) => ({
          ...p,
          rows: p.rows.map((r) => ({ ...r, reason: st.problem! })),
        })),
    };
  }
  const arena = Arena.reserve({ size: hi - lo, align: GiB, interior: 'empty' });
  const parent = new KernelSpace(arena);
  try {
    const shift = arena.start - lo;
    const fork = parent.fork();
    if (!fork.ok) throw new Error(`fork: ${fork.code}`);
    const child = parent.forkSpace(fork.value);
    try {
      build(child, x, shift);
      const c = x.call;
      const obs = observe(st, fork.value, (): Result<bigint> =>
        child.remap({
          addr: c.addr + shift,
          oldLen: c.oldLen,
          newLen: c.newLen,
          flags: c.flags,
          newAddr: c.newAddr + shift,
        }),
      );
      const walks = walksOf(parseTraceText(obs.text), fork.value).map((w) => unshift(w, shift));
      const r = obs.value;
      return {
        ...base,
        shift,
        result: r.ok ? `0x${(r.value - shift).toString(16)} (shifted back)` : formatResult(r),
        walks,
        traceText: obs.text,
        plans: x.plans.map((p, i) => {
          const rows = comparePlan(p, walks[i], st.targets);
          const w = walks[i];
          return {
            rows,
            divergence: w ? planDivergence(p, kernelCounts(w, st.targets).counts, rows) : null,
          };
        }),
      };
    } finally {
      parent.release(fork.value);
    }
  } finally {
    parent.dispose();
    arena.release();
  }
}
