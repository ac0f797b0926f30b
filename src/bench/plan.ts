/**
 * The model's predicted page-table plan for one case, in the exact layout the case uses: the
 * case's setup (native/timing.cc Sampler::Setup) replayed on a ModelSpace, then its mremap;
 * the plan is the one the model's move_page_tables() records in its trace, so merges
 * (copy_vma), try_realign_addr and the page tables the population leaves are the model's.
 */
import {
  DEFAULT_PROFILE,
  ModelSpace,
  getProfile,
  summarizePlan,
  withOverrides,
  type MovePlan,
} from '../model/index.js';
import type { RemapArgs } from '../space/address-space.js';
import { MADV, MAP, MREMAP, PROT } from '../space/constants.js';
import type { Result } from '../space/result.js';
import type { CaseLayout } from './layout.js';
import { FLAG_BITS, PAGE, caseFlags, type BenchCase } from './types.js';

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

/** timing.cc Selected(): is page i among those a population of permille/1000 writes? */
export function selectedPage(i: number, permille: number): boolean {
  return Math.floor(((i + 1) * permille) / 1000) > Math.floor((i * permille) / 1000);
}

const MERGE_PARTNER_LEAD = PAGE;

/**
 * The model the case is replayed on: the default profile (try_realign_addr included), the
 * RFC's flag bits when the kernel accepts them, and this kernel's THP mode and MOVE_PMD/PUD.
 */
function caseModel(env: PlanEnv): ModelSpace {
  const base = getProfile(DEFAULT_PROFILE);
  const rfc = getProfile('relocate-anon-rfc').relocateAnon;
  return new ModelSpace({
    profile: env.relocateAnon ? withOverrides(base, { relocateAnon: rfc }) : base,
    // An unknown THP mode (no sysfs) is taken as the default, madvise.
    thp: env.thpEnabled === 'always' || env.thpEnabled === 'never' ? env.thpEnabled : 'madvise',
    haveMovePmd: env.haveMovePmd,
    haveMovePud: env.haveMovePud,
  });
}

function must<T>(r: Result<T>, what: string): T {
  if (!r.ok) throw new Error(`bench plan: the model refused ${what}: ${r.code}`);
  return r.value;
}

/**
 * native/timing.cc Sampler::Setup, step by step on the model: the source mapping (with the
 * merge partner's page in front), MADV_HUGEPAGE, the population, the neighbour, the fork.
 */
function replaySetup(s: ModelSpace, c: BenchCase, l: CaseLayout): void {
  const lead = c.neighbour === 'merge-partner' ? MERGE_PARTNER_LEAD : 0;
  const span = Math.max(l.oldLen, l.newLen);
  const rw = PROT.READ | PROT.WRITE;
  let flags = MAP.FIXED | (c.kind === 'private-anon' ? MAP.PRIVATE : MAP.SHARED);
  let file: number | undefined;
  if (c.kind === 'memfd') file = must(s.memfd(BigInt(span + lead)), 'memfd_create');
  else flags |= MAP.ANONYMOUS;
  const base = BigInt(l.src - lead);
  must(
    s.map({ addr: base, length: BigInt(l.oldLen + lead), prot: rw, flags, file, offset: 0n }),
    'the source mmap',
  );
  const src = BigInt(l.src);
  const len = BigInt(l.oldLen);
  if (c.thp) must(s.advise(src, len, MADV.HUGEPAGE), 'MADV_HUGEPAGE');
  const permille = Math.round(c.populate * 1000);
  // One MADV_POPULATE_WRITE faults every page; the pattern written after it faults nothing.
  if (permille >= 1000) must(s.advise(src, len, MADV.POPULATE_WRITE), 'MADV_POPULATE_WRITE');
  else if (permille > 0) {
    for (let i = 0; i < l.oldLen / PAGE; i++)
      if (selectedPage(i, permille)) must(s.touch(src + BigInt(i * PAGE), 1n), 'a write fault');
  }
  const nb = BigInt(l.nbAddr);
  const nbLen = BigInt(l.nbLen);
  if (c.neighbour === 'merge-partner') {
    must(s.touch(base, 1n), 'the merge partner write fault');
    const lead64 = BigInt(lead);
    must(
      s.remap({
        addr: base,
        oldLen: lead64,
        newLen: lead64,
        flags: MREMAP.MAYMOVE | MREMAP.FIXED,
        newAddr: nb,
      }),
      'the merge partner move',
    );
  } else if (c.neighbour === 'preamble') {
    must(
      s.map({
        addr: nb,
        length: nbLen,
        prot: PROT.READ,
        flags: MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED,
      }),
      'the preamble mmap',
    );
  } else if (c.neighbour === 'selftest-preamble') {
    must(
      s.map({ addr: nb, length: nbLen, prot: rw, flags: MAP.SHARED | MAP.ANONYMOUS | MAP.FIXED }),
      'the selftest preamble mmap',
    );
    must(s.advise(nb, nbLen, MADV.POPULATE_WRITE), 'the selftest preamble population');
  }
  if (c.forkChild) must(s.fork(), 'fork');
}

/** The case's call, with the RFC bits only where the kernel has them (else it is skipped). */
function caseCall(c: BenchCase, l: CaseLayout, env: PlanEnv): RemapArgs {
  let flags = BigInt(caseFlags(c));
  if (!env.relocateAnon) flags &= ~BigInt(FLAG_BITS.RELOCATE_ANON | FLAG_BITS.MUST_RELOCATE_ANON);
  return {
    addr: BigInt(l.src),
    oldLen: BigInt(l.oldLen),
    newLen: BigInt(l.newLen),
    flags,
    newAddr: c.op === 'move' ? BigInt(l.dst) : 0n,
  };
}

/**
 * The case replayed on the model (its layout, then the call): the move_page_tables() plan the
 * model records, and what the observation (bench/observe.ts) should find after the call.
 */
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
  const s = caseModel(env);
  replaySetup(s, c, l);
  const result = must(s.remap(caseCall(c, l, env)), "the case's mremap");
  const trace = s.lastTrace;
  const kept = Math.min(l.oldLen, l.newLen);
  const after = s.snapshot(result, result + BigInt(kept));
  const present = after.pages.filter((p) => p.present).length;
  const thpPages = after.pages.filter((p) => p.thp).length;
  const home = after.vmas[0];
  const mergedBelow = home !== undefined && home.start < result;
  const expect = { present, thpPages, mergedBelow };
  const plan = trace.plans[0];
  if (plan === undefined) {
    const none: PredictedPlan = {
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
      expect,
      warnings: [],
    };
    return { predicted: none, walk: null };
  }
  // copy_vma of the RFC: a new VMA with a fresh anon_vma whose folios are rewritten.
  const relocation = trace.entries.some((e) => e.result === 'relocated');
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
    expect,
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
