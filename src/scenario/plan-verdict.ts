/**
 * The model's move_page_tables() plan beside the traced one, level by level. A level the
 * kernel did not let us observe is "cannot verify" with the reason, never a guess.
 */
import type { MovePlan } from '../model/page-tables.js';
import type { TargetStatus } from '../kernel/trace/discover.js';
import type { CalleeEvent, TracedWalk } from '../kernel/trace/parse.js';
import type { TargetName } from '../kernel/trace/targets.js';

const PS = 4096n;

export type Verdict = 'agree' | 'differ' | 'cannot verify';

export interface LevelRow {
  level: string;
  model: string;
  kernel: string;
  verdict: Verdict;
  /** Why a level cannot be verified. */
  reason?: string;
  /** How the kernel's value was obtained when not from the mover's own probe. */
  evidence?: string;
}

/** The counts both sides are compared on; null: the kernel side is unknown. */
export interface PlanCounts {
  realigned: boolean | null;
  pteExtents: number | null;
  ptePages: number | null;
  pmd: number | null;
  pud: number | null;
  hugePmd: number | null;
  hugePud: number | null;
  splits: number | null;
}

export function modelCounts(p: MovePlan): PlanCounts {
  let ptePages = 0;
  let splits = 0;
  for (const e of p.extents) {
    if (e.level === 'pte') ptePages += e.size / Number(PS);
    if (e.thpSplit) splits++;
  }
  return {
    realigned: p.realigned,
    pteExtents: p.counts.pte,
    ptePages,
    pmd: p.counts.pmd,
    pud: p.counts.pud,
    hugePmd: p.counts['huge-pmd'],
    hugePud: p.counts['huge-pud'],
    splits,
  };
}

type Why = (fn: TargetName, needArgs: boolean) => string | null;

/** Why a count needs a probe we could not place (or its arguments), else null. */
function whyNot(targets: readonly TargetStatus[]): Why {
  return (fn, needArgs) => {
    const t = targets.find((x) => x.fn === fn);
    if (t === undefined || t.kprobe !== 'ok') return `${fn}: ${t?.kprobe ?? 'not probed'}`;
    if (needArgs && !t.withArgs) return `${fn} is probed without arguments on this kernel`;
    return null;
  };
}

const PMD = 0x200000n;
const PUD = 0x40000000n;
const PAGE_SHIFT = 12n;

export interface Derived {
  pteExtents: number;
  /** null when an extent moved no present PTE, so no flush showed its range. */
  ptePages: number | null;
  pmd: number;
  pud: number;
  /** Where each extent began, in walk order. */
  starts: bigint[];
  /** Flushes that fit no mover (reported, never counted). */
  odd: string[];
}

/**
 * The inlined movers' calls from their callees (targets.ts): a flush_tlb_batched_pending
 * opens a move_ptes() extent and the next page-stride flush is its range; a page-stride
 * flush with no extent open is move_normal_pmd (2 MiB) or move_normal_pud (1 GiB).
 *
 * `leafFlushes` are the PMD-aligned starts of the traced THP moves and splits: on x86
 * flush_pmd_tlb_range() is the generic flush_tlb_range() (include/linux/pgtable.h), so
 * move_huge_pmd()'s and __split_huge_pmd_locked()'s 2 MiB flushes have page stride too and
 * would pass for move_normal_pmd(). Each one is taken out once, whatever is open: a split
 * flushes before the extent that follows it opens.
 */
export function deriveFromCallees(
  events: readonly CalleeEvent[],
  leafFlushes: readonly bigint[] = [],
): Derived {
  const d: Derived = { pteExtents: 0, ptePages: 0, pmd: 0, pud: 0, starts: [], odd: [] };
  const leaves = [...leafFlushes];
  let open = false;
  const closeBlind = (): void => {
    d.pteExtents++;
    d.ptePages = null;
  };
  for (const e of events) {
    if (e.kind === 'batch') {
      if (open) closeBlind();
      open = true;
      continue;
    }
    if (e.stride !== PAGE_SHIFT || e.start === null || e.end === null) continue;
    const size = e.end - e.start;
    const leaf = size === PMD ? leaves.indexOf(e.start) : -1;
    if (leaf >= 0) {
      leaves.splice(leaf, 1);
      continue;
    }
    if (open) {
      d.pteExtents++;
      if (d.ptePages !== null) d.ptePages += Number(size >> PAGE_SHIFT);
      d.starts.push(e.start);
      open = false;
    } else if (size === PMD) {
      d.pmd++;
      d.starts.push(e.start);
    } else if (size === PUD) {
      d.pud++;
      d.starts.push(e.start);
    } else {
      d.odd.push(`flush of 0x${size.toString(16)} bytes at 0x${e.start.toString(16)}`);
    }
  }
  if (open) closeBlind();
  return d;
}

export interface KernelSide {
  counts: PlanCounts;
  reasons: Partial<Record<keyof PlanCounts, string>>;
  /** How a count was obtained when not from the mover's own probe. */
  evidence: Partial<Record<keyof PlanCounts, string>>;
}

const DERIVED = 'derived from flush_tlb_batched_pending + flush_tlb_mm_range';

/** The kernel's counts for one walk, each null with its reason when unobservable. */
export function kernelCounts(w: TracedWalk, targets: readonly TargetStatus[]): KernelSide {
  const why = whyNot(targets);
  const reasons: Partial<Record<keyof PlanCounts, string>> = {};
  const evidence: Partial<Record<keyof PlanCounts, string>> = {};
  const calleeWhy =
    why('flush_tlb_batched_pending', false) ?? why('flush_tlb_mm_range', true) ?? null;
  // The THP moves' and splits' own flushes (see deriveFromCallees): without their
  // addresses a 2 MiB flush cannot be told from move_normal_pmd's.
  const leafFns = ['move_huge_pmd', '__split_huge_pmd'] as const;
  const leafEvents = leafFns.flatMap((fn) =>
    w.calls[fn].filter((c) => c.moved !== false).map((c) => c.old),
  );
  const leafWhy =
    leafEvents.some((a) => a === null) || leafFns.some((fn) => why(fn, false) !== null)
      ? `a THP move or split whose address is not traced (${leafFns.map((fn) => why(fn, true) ?? `${fn}: ok`).join('; ')}) flushes 2 MiB like move_normal_pmd`
      : null;
  const derived =
    calleeWhy === null
      ? deriveFromCallees(
          w.callees,
          leafEvents.filter((a) => a !== null).map((a) => a - (a % PMD)),
        )
      : null;
  const moved = (fn: 'move_huge_pmd' | 'move_huge_pud'): number | null =>
    why(fn, false) !== null ? null : w.calls[fn].filter((c) => c.moved === true).length;
  const level = (
    k: 'pteExtents' | 'ptePages' | 'pmd' | 'pud',
    fn: TargetName,
    needArgs: boolean,
    direct: () => number | null,
  ): number | null => {
    const r = why(fn, needArgs);
    if (r === null) return direct();
    if (derived !== null) {
      if (k === 'pmd' && leafWhy !== null) {
        reasons[k] = leafWhy;
        return null;
      }
      evidence[k] = DERIVED;
      if (k === 'ptePages' && derived.ptePages === null)
        reasons[k] = 'a PTE-level extent moved no present PTE, so no flush showed its range';
      return derived[k];
    }
    reasons[k] = `${r}; ${calleeWhy ?? ''}`;
    return null;
  };
  const sumPages = (): number => {
    let n = 0;
    for (const e of w.ptes) n += Number((e.end! - e.old!) >> PAGE_SHIFT);
    return n;
  };
  const normal = (fn: 'move_normal_pmd' | 'move_normal_pud') => (): number =>
    w.calls[fn].filter((c) => c.moved === true).length;
  const counts: PlanCounts = {
    realigned: null,
    pteExtents: level('pteExtents', 'move_ptes', false, () => w.ptes.length),
    ptePages: level('ptePages', 'move_ptes', true, sumPages),
    pmd: level('pmd', 'move_normal_pmd', false, normal('move_normal_pmd')),
    pud: level('pud', 'move_normal_pud', false, normal('move_normal_pud')),
    hugePmd: moved('move_huge_pmd'),
    hugePud: moved('move_huge_pud'),
    splits: why('__split_huge_pmd', false) === null ? w.calls.__split_huge_pmd.length : null,
  };
  if (counts.hugePmd === null) reasons.hugePmd = why('move_huge_pmd', false)!;
  if (counts.hugePud === null) reasons.hugePud = why('move_huge_pud', false)!;
  if (counts.splits === null) reasons.splits = why('__split_huge_pmd', false)!;
  counts.realigned = realignedOf(w, why, derived, reasons, evidence);
  return { counts, reasons, evidence };
}

/**
 * try_realign_addr changes the walk's start, not its arguments, so the evidence is where
 * the walk began: the lowest address any level mover saw, below move_page_tables' old_addr.
 * Every mover that can start a PMD-aligned walk must be seen with its address: PTE
 * extents, PMD and PUD entries (directly or from their flushes) and THP PMDs. A huge PUD
 * (DAX only) cannot start a realigned walk: realignment is to a PMD, below old_addr.
 */
function realignedOf(
  w: TracedWalk,
  why: Why,
  derived: Derived | null,
  reasons: Partial<Record<keyof PlanCounts, string>>,
  evidence: Partial<Record<keyof PlanCounts, string>>,
): boolean | null {
  const starts: bigint[] = [];
  const need = (fn: TargetName): string | null => why(fn, true);
  const pre = need('move_page_tables') ?? need('move_huge_pmd');
  if (pre !== null) {
    reasons.realigned = pre;
    return null;
  }
  for (const c of w.calls.move_huge_pmd) if (c.old !== null) starts.push(c.old);
  const direct = need('move_ptes') ?? need('move_normal_pmd') ?? need('move_normal_pud');
  if (direct === null) {
    for (const p of w.ptes) starts.push(p.old!);
    for (const c of [...w.calls.move_normal_pmd, ...w.calls.move_normal_pud])
      if (c.old !== null) starts.push(c.old);
  } else if (derived !== null) {
    if (derived.ptePages === null) {
      reasons.realigned = 'a PTE-level extent moved no present PTE, so its start is not seen';
      return null;
    }
    starts.push(...derived.starts);
    evidence.realigned = DERIVED;
  } else {
    reasons.realigned = direct;
    return null;
  }
  if (w.old === null || starts.length === 0) {
    reasons.realigned = 'the walk moved nothing, so its start is not seen';
    return null;
  }
  return starts.reduce((a, b) => (b < a ? b : a)) < w.old;
}

const LEVELS: readonly [keyof PlanCounts, string][] = [
  ['realigned', 'realigned (try_realign_addr)'],
  ['pteExtents', 'PTE-level extents (move_ptes)'],
  ['ptePages', 'pages in PTE-level extents'],
  ['pmd', 'PMD entries (move_normal_pmd)'],
  ['pud', 'PUD entries (move_normal_pud)'],
  ['hugePmd', 'huge PMDs (move_huge_pmd)'],
  ['hugePud', 'huge PUDs (move_huge_pud)'],
  ['splits', 'THP splits (__split_huge_pmd)'],
];

const show = (v: boolean | number | null): string =>
  v === null ? '?' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);

export function comparePlan(
  model: MovePlan,
  walk: TracedWalk | undefined,
  targets: readonly TargetStatus[],
): LevelRow[] {
  const m = modelCounts(model);
  if (walk === undefined) {
    return LEVELS.map(([k, level]) => ({
      level,
      model: show(m[k]),
      kernel: '?',
      verdict: 'cannot verify' as const,
      reason: 'no move_page_tables() call was traced',
    }));
  }
  const { counts, reasons, evidence } = kernelCounts(walk, targets);
  return LEVELS.map(([k, level]) => {
    const kv = counts[k];
    if (kv === null)
      return {
        level,
        model: show(m[k]),
        kernel: '?',
        verdict: 'cannot verify' as const,
        reason: reasons[k] ?? 'unknown',
      };
    return {
      level,
      model: show(m[k]),
      kernel: show(kv),
      verdict: kv === m[k] ? ('agree' as const) : ('differ' as const),
      ...(evidence[k] !== undefined ? { evidence: evidence[k] } : {}),
    };
  });
}

/** "1 PTE + 1 PMD", "2 PMD", "2 PTE, 1 THP split", "nothing": a plan's moves in one phrase. */
export function planPhrase(c: PlanCounts): string {
  const parts: string[] = [];
  const add = (n: number | null, what: string): void => {
    // An unobserved level is left out: its row says "cannot verify".
    if (n !== null && n > 0) parts.push(`${n} ${what}`);
  };
  add(c.pteExtents, 'PTE');
  add(c.pmd, 'PMD');
  add(c.pud, 'PUD');
  add(c.hugePmd, 'huge PMD');
  add(c.hugePud, 'huge PUD');
  let s = parts.length === 0 ? 'nothing' : parts.join(' + ');
  // A split is no move of its own, but a plan that splits a THP is not the plan that doesn't.
  if (c.splits !== null && c.splits > 0) s += `, ${c.splits} THP split${c.splits === 1 ? '' : 's'}`;
  return c.realigned === true ? `${s} (realigned)` : s;
}

/** The divergence text, or null when every observable level agrees. */
export function planDivergence(
  model: MovePlan,
  kernel: PlanCounts,
  rows: readonly LevelRow[],
): string | null {
  if (!rows.some((r) => r.verdict === 'differ')) return null;
  return `plan differs: model ${planPhrase(modelCounts(model))}, kernel ${planPhrase(kernel)}`;
}

/** The verdict on one call: a row set per model plan, and the divergence line or null. */
export interface PlansVerdict {
  walks: LevelRow[][];
  divergence: string | null;
}

const walkWord = (n: number): string => `${n} move_page_tables() call${n === 1 ? '' : 's'}`;

function phrases(list: readonly PlanCounts[]): string {
  return list.length === 0 ? 'no move_page_tables() call' : list.map(planPhrase).join(', then ');
}

/**
 * The model's plans against the traced walks of one call. A call that moves and then moves
 * back (a failed move_vma undoes itself with a second walk) has two on each side.
 */
export function comparePlans(
  model: readonly MovePlan[],
  walks: readonly TracedWalk[],
  targets: readonly TargetStatus[],
): PlansVerdict {
  const n = Math.max(model.length, walks.length);
  const rows: LevelRow[][] = [];
  for (let i = 0; i < n; i++) {
    const m = model[i];
    const w = walks[i];
    if (m === undefined) continue;
    rows.push(comparePlan(m, w, targets));
  }
  const mc = model.map(modelCounts);
  const kc = walks.map((w) => kernelCounts(w, targets).counts);
  if (model.length !== walks.length)
    return {
      walks: rows,
      divergence: `plan differs: model ${walkWord(model.length)} (${phrases(mc)}), kernel ${walkWord(walks.length)} (${phrases(kc)})`,
    };
  const differs = rows.some((r) => r.some((x) => x.verdict === 'differ'));
  return {
    walks: rows,
    divergence: differs ? `plan differs: model ${phrases(mc)}, kernel ${phrases(kc)}` : null,
  };
}
