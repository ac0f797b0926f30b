/**
 * The alignment matrix of tools/testing/selftests/mm/mremap_test.c (source and destination
 * PTE-, 1 MiB-, PMD- or PUD-aligned, and not aligned to the next power of two, as its
 * get_source_mapping() picks them), each call explained by the model and verified against
 * the traced plan.
 */
import { explainRemap } from '../model/explain.js';
import type { Profile } from '../model/profiles.js';
import type { TracerStatus } from '../kernel/trace/discover.js';
import { modelCounts, planPhrase, kernelCounts, type Verdict } from './plan-verdict.js';
import { verifyPlan } from './verify-plan.js';

const KiB = 1024n;
const MiB = 1024n * KiB;
const GiB = 1024n * MiB;
const PTE = 4n * KiB;
const PMD = 2n * MiB;
const PUD = GiB;

export interface MatrixCase {
  name: string;
  srcAlign: bigint;
  dstAlign: bigint;
  len: bigint;
}

/** mremap_test.c's non-overlapping success cases, in its order. */
export const ALIGNMENT_MATRIX: readonly MatrixCase[] = [
  {
    name: '8KB mremap - Source PTE-aligned, Destination PTE-aligned',
    srcAlign: PTE,
    dstAlign: PTE,
    len: 2n * PTE,
  },
  {
    name: '2MB mremap - Source 1MB-aligned, Destination PTE-aligned',
    srcAlign: MiB,
    dstAlign: PTE,
    len: 2n * MiB,
  },
  {
    name: '2MB mremap - Source 1MB-aligned, Destination 1MB-aligned',
    srcAlign: MiB,
    dstAlign: MiB,
    len: 2n * MiB,
  },
  {
    name: '4MB mremap - Source PMD-aligned, Destination PTE-aligned',
    srcAlign: PMD,
    dstAlign: PTE,
    len: 4n * MiB,
  },
  {
    name: '4MB mremap - Source PMD-aligned, Destination 1MB-aligned',
    srcAlign: PMD,
    dstAlign: MiB,
    len: 4n * MiB,
  },
  {
    name: '4MB mremap - Source PMD-aligned, Destination PMD-aligned',
    srcAlign: PMD,
    dstAlign: PMD,
    len: 4n * MiB,
  },
  {
    name: '2GB mremap - Source PUD-aligned, Destination PTE-aligned',
    srcAlign: PUD,
    dstAlign: PTE,
    len: 2n * GiB,
  },
  {
    name: '2GB mremap - Source PUD-aligned, Destination 1MB-aligned',
    srcAlign: PUD,
    dstAlign: MiB,
    len: 2n * GiB,
  },
  {
    name: '2GB mremap - Source PUD-aligned, Destination PMD-aligned',
    srcAlign: PUD,
    dstAlign: PMD,
    len: 2n * GiB,
  },
  {
    name: '2GB mremap - Source PUD-aligned, Destination PUD-aligned',
    srcAlign: PUD,
    dstAlign: PUD,
    len: 2n * GiB,
  },
];

/** Aligned to `a` but not to 2a, above `base` (a multiple of 2 GiB). */
const placed = (base: bigint, a: bigint): bigint => base + a;

export interface MatrixRow {
  name: string;
  old: bigint;
  new: bigint;
  len: bigint;
  model: string;
  kernel: string;
  /** differ if any level differs; agree only if every level was verified and agrees. */
  verdict: Verdict;
  /** Levels observed (agree or differ) out of all. */
  verified: number;
  levels: number;
  /** Levels that differ or cannot be verified, with reasons. */
  notes: string[];
}

export function runMatrix(
  profile: Profile,
  status: TracerStatus,
  cases: readonly MatrixCase[] = ALIGNMENT_MATRIX,
): MatrixRow[] {
  return cases.map((c) => {
    const old = placed(8n * GiB, c.srcAlign);
    const nw = placed(16n * GiB, c.dstAlign);
    const x = explainRemap({ profile, old, new: nw, len: c.len });
    const plan = x.plans[0];
    const base = { name: c.name, old, new: nw, len: c.len };
    if (plan === undefined)
      return {
        ...base,
        model: 'no move',
        kernel: '?',
        verdict: 'cannot verify' as const,
        verified: 0,
        levels: 0,
        notes: ['the model moved nothing'],
      };
    const v = verifyPlan(x, status);
    const rows = v.plans[0]!.rows;
    const w = v.walks[0];
    const verdict: Verdict = rows.some((r) => r.verdict === 'differ')
      ? 'differ'
      : rows.some((r) => r.verdict === 'cannot verify')
        ? 'cannot verify'
        : 'agree';
    return {
      ...base,
      model: planPhrase(modelCounts(plan)),
      kernel: w === undefined ? '?' : planPhrase(kernelCounts(w, status.targets).counts),
      verdict,
      verified: rows.filter((r) => r.verdict !== 'cannot verify').length,
      levels: rows.length,
      notes: rows
        .filter((r) => r.verdict !== 'agree')
        .map(
          (r) =>
            `${r.level}: ${r.verdict === 'differ' ? `model ${r.model}, kernel ${r.kernel}` : (r.reason ?? '')}`,
        ),
    };
  });
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

export function formatMatrix(
  rows: readonly MatrixRow[],
  status: TracerStatus,
  profile: string,
): string {
  const release = status.release;
  const lines = [
    `kernel ${release}, model ${profile}`,
    '',
    '| case | old | new | model plan | traced plan | verdict |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  const verdict = (r: MatrixRow): string =>
    r.verdict === 'cannot verify' && r.verified > 0
      ? `agree on ${r.verified} of ${r.levels} levels, rest cannot verify`
      : r.verdict;
  for (const r of rows)
    lines.push(
      `| ${r.name} | ${hex(r.old)} | ${hex(r.new)} | ${r.model} | ${r.kernel} | ${verdict(r)} |`,
    );
  // One reason for every row: say it once.
  if (status.problem !== null) return [...lines, '', `cannot trace: ${status.problem}`].join('\n');
  const notes = rows.filter((r) => r.notes.length > 0);
  if (notes.length > 0) {
    lines.push('');
    for (const r of notes) lines.push(`- ${r.name}: ${r.notes.join('; ')}`);
  }
  return lines.join('\n');
}
