/**
 * The model's predicted page-table plan for one case, in the exact layout the case uses:
 * model/page-tables.ts planMovePageTables over the VMAs that exist after copy_vma (the new
 * VMA merged with a merge partner starts below dst, so try_realign_addr's can_align_down
 * refuses) and the page tables the population leaves.
 */
import {
  planMovePageTables,
  summarizePlan,
  vmasPredicate,
  type Extent,
  type MovePlan,
  type PageTableState,
} from '../model/page-tables.js';
import type { CaseLayout } from './layout.js';
import { PAGE, PMD_SIZE, PUD_SIZE, type BenchCase } from './types.js';

export interface PlanFeatures {
  /** Present PTEs moved one by one (move_ptes). */
  ptes: number;
  /** PMD entries moved: PTE tables relinked (move_normal_pmd) plus THP leaves (move_huge_pmd). */
  pmds: number;
  /** PUD entries moved (move_normal_pud). */
  puds: number;
  /** Folios whose anon rmap RELOCATE_ANON rewrites. */
  folios: number;
  /** PTE-level extents (move_ptes calls, each into a freshly allocated destination table). */
  pteRuns: number;
}

export interface PredictedPlan extends PlanFeatures {
  /** 'move' when move_page_tables runs; 'none' for in-place resizes. */
  kind: 'move' | 'none';
  summary: string;
  realigned: boolean;
  realignReason: string;
  relocation: boolean;
  counts: Record<string, number>;
  /** Expected after the call: present pages at the result, THP-mapped pages, merged VMA. */
  expect: { present: number; thpPages: number; mergedBelow: boolean };
  warnings: string[];
}

export interface PlanEnv {
  /** THP mode from sysfs ('never' means MADV_HUGEPAGE gives no THP). */
  thpEnabled: string | null;
  haveMovePmd: boolean;
  haveMovePud: boolean;
  /** The kernel accepts MREMAP_RELOCATE_ANON (probe().relocateAnon.relocate). */
  relocateAnon: boolean;
}

/** Number of pages i in [0, n) the native sampler writes (timing.cc Selected()). */
export function selectedBelow(n: number, permille: number): number {
  return Math.floor((n * permille) / 1000);
}

/** The page tables the source's population leaves behind. */
export function sourceState(c: BenchCase, src: number): PageTableState {
  const permille = Math.round(c.populate * 1000);
  const end = src + c.size;
  const thp = c.thp && c.kind === 'private-anon' && permille > 0;
  const hugePmds = new Set<number>();
  const pteTables = new Set<number>();
  const pmdTables = new Set<number>();
  const pagesIn = (a: number, b: number): number =>
    selectedBelow((b - src) / PAGE, permille) - selectedBelow((a - src) / PAGE, permille);
  for (let slot = src - (src % PMD_SIZE); slot < end; slot += PMD_SIZE) {
    const a = Math.max(slot, src);
    const b = Math.min(slot + PMD_SIZE, end);
    if (pagesIn(a, b) === 0) continue;
    // do_huge_pmd_anonymous_page needs the whole aligned 2 MiB inside the VMA.
    if (thp && a === slot && b === slot + PMD_SIZE) hugePmds.add(slot);
    else pteTables.add(slot);
    pmdTables.add(slot - (slot % PUD_SIZE));
  }
  return {
    pteTables,
    pmdTables,
    hugePmds,
    presentIn(start: number, stop: number): number {
      let n = 0;
      for (let slot = start - (start % PMD_SIZE); slot < stop; slot += PMD_SIZE) {
        const a = Math.max(slot, start, src);
        const b = Math.min(slot + PMD_SIZE, stop, end);
        if (a >= b) continue;
        n += hugePmds.has(slot) ? (b - a) / PAGE : pagesIn(a, b);
      }
      return n;
    },
  };
}

export function predictPlan(c: BenchCase, l: CaseLayout, env: PlanEnv): PredictedPlan {
  return predictWithWalk(c, l, env).predicted;
}

/**
 * The prediction and the model's move_page_tables() plan it came from (null: no move), which
 * bench --trace compares level by level with the traced walk.
 */
export function predictWithWalk(
  c: BenchCase,
  l: CaseLayout,
  env: PlanEnv,
): { predicted: PredictedPlan; walk: MovePlan | null } {
  const state = sourceState(c, l.src);
  const present = state.presentIn(l.src, l.src + Math.min(c.size, c.newSize));
  const thpPossible = env.thpEnabled !== 'never';
  const relocation =
    env.relocateAnon &&
    c.op === 'move' &&
    c.flags.some((f) => f !== 'DONTUNMAP') &&
    c.kind === 'private-anon' &&
    !c.forkChild &&
    present > 0;
  if (c.op !== 'move') {
    const thpPages = thpPossible ? state.hugePmds.size * (PMD_SIZE / PAGE) : 0;
    const predicted: PredictedPlan = {
      kind: 'none',
      summary: `${c.op} in place (no page-table move)`,
      realigned: false,
      realignReason: 'no move',
      relocation: false,
      counts: {},
      ptes: 0,
      pmds: 0,
      puds: 0,
      folios: 0,
      pteRuns: 0,
      expect: { present, thpPages, mergedBelow: false },
      warnings: [],
    };
    return { predicted, walk: null };
  }
  if (!thpPossible) {
    for (const s of state.hugePmds) state.pteTables.add(s);
    state.hugePmds.clear();
  }
  const oldVma: Extent = { start: l.src, end: l.src + c.size };
  // vma_merge_new_range in copy_vma: only private anonymous memory merges with the partner.
  // The partner is cut from the source mapping (timing.cc Setup), so it merges for every kind.
  const mergedBelow = c.neighbour === 'merge-partner';
  if (mergedBelow) {
    // Its one populated page leaves a PTE table in its PMD slot at the destination side.
    state.pteTables.add(l.nbAddr - (l.nbAddr % PMD_SIZE));
    state.pmdTables.add(l.nbAddr - (l.nbAddr % PUD_SIZE));
  }
  const newVma: Extent = { start: mergedBelow ? l.nbAddr : l.dst, end: l.dst + c.size };
  const others: Extent[] = [oldVma, newVma];
  if (c.neighbour !== 'none' && !mergedBelow)
    others.push({ start: l.nbAddr, end: l.nbAddr + l.nbLen });
  const plan = planMovePageTables({
    old: l.src,
    new: l.dst,
    len: c.size,
    oldVma,
    newVma,
    anyVmaIn: vmasPredicate(others),
    state,
    realign: true,
    haveMovePmd: env.haveMovePmd,
    haveMovePud: env.haveMovePud,
  });
  let thpPages = 0;
  for (const e of plan.extents) if (e.level === 'huge-pmd') thpPages += e.size / PAGE;
  const folios = relocation
    ? plan.extents.reduce((n, e) => n + (e.level === 'huge-pmd' ? 1 : e.ptes), 0)
    : 0;
  const predicted: PredictedPlan = {
    kind: 'move',
    summary: summarizePlan(plan),
    realigned: plan.realigned,
    realignReason: plan.realignReason,
    relocation,
    counts: { ...plan.counts },
    ptes: plan.ptesMoved,
    pmds: plan.counts.pmd + plan.counts['huge-pmd'],
    puds: plan.counts.pud + plan.counts['huge-pud'],
    folios,
    pteRuns: plan.counts.pte,
    expect: { present, thpPages, mergedBelow },
    warnings: plan.warnings,
  };
  return { predicted, walk: plan };
}

/** A short plan description for tables: "2 PMD, 1 PTE run (1 PTE), realigned". */
export function planLabel(p: PredictedPlan): string {
  if (p.kind === 'none') return p.summary;
  const bits: string[] = [];
  if (p.puds) bits.push(`${p.puds} PUD`);
  if (p.pmds) bits.push(`${p.pmds} PMD`);
  const pteRuns = p.counts.pte ?? 0;
  if (pteRuns) bits.push(`${p.ptes} PTE${p.ptes === 1 ? '' : 's'}`);
  if (!bits.length) bits.push('nothing to move');
  if (p.realigned) bits.push('realigned');
  if (p.relocation) bits.push(`${p.folios} folios relocated`);
  return bits.join(', ');
}
