/**
 * Which scenarios tell kernel versions apart. Each scenario runs model-only under every pair
 * of profiles, one profile standing in for the kernel and the other as the model, through
 * the same runner and differ as `validate`: the model side is told the stand-in's placement
 * of unfixed mappings, exactly as it is told the real kernel's. A scenario separates the
 * pair when the two predict a different result, layout or page state at some step.
 *
 * A scenario counts for a kernel only where it would run there (profile-gates.ts): its
 * `requires.minKernel` and the features the profile implies must hold for the stand-in, and
 * a `requires.profiles` list must name the model's profile.
 *
 * The same module reads `validate --format json` reports of real kernels and counts, per
 * (model profile, kernel), the scenarios that failed: the confusion matrix.
 */
import { ARENA_GUARD, ARENA_HINT_BASE } from '../space/arena-guards.js';
import { createHash } from 'node:crypto';
import { ModelSpace, type ThpMode } from '../model/address-space.js';
import { getProfile, type Profile } from '../model/profiles.js';
import { DEFAULT_TRAITS, type ModelTraits } from '../model/traits.js';
import { PAGE_SIZE } from '../space/constants.js';
import { parseAlign } from './address.js';
import { parseVersion } from './kernel-range.js';
import { profileSkip } from './profile-gates.js';
import { addGuards, modelSide, placeFromHint } from './model-side.js';
import { ScenarioRunner, type Divergence } from './runner.js';
import type { Scenario } from './types.js';
import { scenarioMachine } from './scenario-machine.js';

/** The mainline profiles the suite must tell apart (relocate-anon-rfc is not a release). */
export const RELEASE_PROFILES = [
  'linux-6.1',
  'linux-6.6',
  'linux-6.7',
  'linux-6.12',
  'linux-6.16',
  'linux-6.17',
  'linux-6.18',
] as const;

/** The machine both sides pretend to be: a stock x86-64 build (Debian's THP default). */
export interface MatrixEnv {
  thp: ThpMode;
  traits: ModelTraits;
}

export const CANONICAL_ENV: Readonly<MatrixEnv> = Object.freeze({
  thp: 'madvise',
  traits: DEFAULT_TRAITS,
});

/**
 * The scenario without its hand-written expectations: the matrix counts what the profiles
 * predict, and an expectation failing on one side would end the run before the steps that
 * tell them apart.
 */
export function predictionsOnly(sc: Scenario): Scenario {
  return {
    ...sc,
    steps: sc.steps.map((s) => {
      const { expect: _drop, ...rest } = s;
      return rest as typeof s;
    }),
  };
}

/**
 * Arena start as Arena.reserve picks it in its second 32 GiB slot: aligned to the
 * scenario's alignment and no more.
 */
function arenaStart(sc: Scenario): bigint {
  const align = parseAlign(sc.arena.align, '$.arena.align');
  const base = ARENA_HINT_BASE + (32n << 30n) + ARENA_GUARD;
  return (base + align - 1n) & ~(align - 1n);
}

function space(
  sc: Scenario,
  p: Profile,
  env: MatrixEnv,
  start: bigint,
  end: bigint,
  hint?: { next: bigint | null },
  trace = true,
) {
  const m = new ModelSpace({
    profile: p,
    trace,
    window: { start, end },
    thp: env.thp,
    traits: env.traits,
    hugetlbPages: 8,
    ...scenarioMachine(sc),
    ...(hint ? { placeUnfixed: placeFromHint(hint) } : {}),
  });
  addGuards(m, start, end);
  return m;
}

export type PairOutcome =
  | { kind: 'skip'; reason: string }
  | { kind: 'same' }
  | { kind: 'diverge'; divergence: Divergence }
  | { kind: 'error'; message: string };

/** Runs `sc` with `kernel` standing in for the kernel and `model` as the model. */
export function comparePair(
  sc: Scenario,
  kernel: Profile,
  model: Profile,
  env: MatrixEnv = CANONICAL_ENV,
): PairOutcome {
  const skip = profileSkip(sc, kernel, model);
  if (skip !== null) return { kind: 'skip', reason: skip };
  const start = arenaStart(sc);
  const end = start + BigInt(sc.arena.pages) * PAGE_SIZE;
  const hint = { next: null as bigint | null };
  try {
    const k = modelSide(space(sc, kernel, env, start, end), undefined, 'kernel');
    const m = modelSide(space(sc, model, env, start, end, hint), hint);
    const out = new ScenarioRunner(sc, k, m, { arenaStart: start, arenaEnd: end }).run();
    return out.divergence ? { kind: 'diverge', divergence: out.divergence } : { kind: 'same' };
  } catch (e) {
    return { kind: 'error', message: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * A digest of everything the differ compares (results, VMAs, pages with frames relabelled by
 * first appearance) after every step of one profile's run, placing unfixed mappings itself.
 * Two profiles with equal digests cannot diverge in comparePair (same placements, same
 * state), so only pairs whose digests differ need the pairwise run.
 */
export function runDigest(sc: Scenario, p: Profile, env: MatrixEnv = CANONICAL_ENV): string {
  const start = arenaStart(sc);
  const end = start + BigInt(sc.arena.pages) * PAGE_SIZE;
  const h = createHash('sha1');
  const labels = new Map<bigint, number>();
  try {
    const m = modelSide(space(sc, p, env, start, end, undefined, false));
    new ScenarioRunner(sc, m, m, {
      arenaStart: start,
      arenaEnd: end,
      only: 'model',
      hooks: [
        {
          afterStep: ({ index: i, outcome: { result: res }, snapshot: snap }) => {
            h.update(`#${i} ${res.ok ? `ok ${String(res.value)}` : res.code}\n`);
            for (const v of snap.vmas)
              h.update(
                `${v.start} ${v.end} ${v.prot} ${v.shared} ${v.kind} ${v.offset} ${v.vmFlags?.join(',') ?? ''}\n`,
              );
            for (const pg of snap.pages) {
              if (!pg.present) continue;
              let f = pg.frame === null ? -1 : labels.get(pg.frame);
              if (f === undefined) labels.set(pg.frame!, (f = labels.size));
              h.update(`${pg.addr} ${f} ${pg.tag} ${pg.thp} ${pg.zero}\n`);
            }
          },
        },
      ],
    }).run();
  } catch (e) {
    h.update(`error ${e instanceof Error ? e.message : String(e)}`);
  }
  return h.digest('hex');
}

export interface PairRow {
  /** The profile standing in for the kernel. */
  kernel: string;
  /** The model's profile. */
  model: string;
  /** Scenario ids that diverge, with the step and the first difference. */
  separating: { id: string; step: number; call: string; difference: string }[];
  errors: { id: string; message: string }[];
}

/** Every ordered pair of distinct profiles, with the scenarios that tell them apart. */
export function profileMatrix(
  scenarios: Scenario[],
  profiles: readonly string[] = RELEASE_PROFILES,
  env: MatrixEnv = CANONICAL_ENV,
): PairRow[] {
  const rows: PairRow[] = [];
  scenarios = scenarios.map(predictionsOnly);
  const digests = new Map(
    profiles.map((p) => [p, scenarios.map((sc) => runDigest(sc, getProfile(p), env))]),
  );
  for (const kn of profiles) {
    for (const mn of profiles) {
      if (kn === mn) continue;
      const row: PairRow = { kernel: kn, model: mn, separating: [], errors: [] };
      for (const [i, sc] of scenarios.entries()) {
        if (digests.get(kn)![i] === digests.get(mn)![i]) continue;
        const o = comparePair(sc, getProfile(kn), getProfile(mn), env);
        if (o.kind === 'diverge') {
          const d = o.divergence;
          row.separating.push({
            id: sc.id,
            step: d.step,
            call: d.call,
            difference: d.differences[0] ?? '',
          });
        } else if (o.kind === 'error') row.errors.push({ id: sc.id, message: o.message });
      }
      rows.push(row);
    }
  }
  return rows;
}

/** How docs/profile-matrix.md is regenerated (printed in it). */
export const PROFILE_MATRIX_COMMAND = 'npm run build:ts && node scripts/profile-matrix.mjs --write';

/** The generated document: a pairs × count table, then each pair's scenarios. */
export function formatProfileMatrix(rows: PairRow[], command = PROFILE_MATRIX_COMMAND): string {
  const profiles = [...new Set(rows.flatMap((r) => [r.kernel, r.model]))];
  const count = (k: string, m: string) =>
    rows.find((r) => r.kernel === k && r.model === m)?.separating.length ?? 0;
  const out: string[] = [
    '# Profile matrix',
    '',
    `<!-- generated by \`${command}\`; do not edit -->`,
    '',
    'Built-in scenarios that tell two kernel profiles apart, model-only: one profile stands in for the kernel, the other is the model, and the runner compares them after every step as `validate` compares kernel and model. A scenario counts only where it runs on the stand-in kernel (`requires.minKernel`, features by version). Environment: THP `madvise`, default traits, no hugetlb pool.',
    '',
    '## Scenarios that diverge (rows: kernel, columns: model profile)',
    '',
    `| kernel \\ model | ${profiles.join(' | ')} |`,
    `|---|${profiles.map(() => '---:').join('|')}|`,
    ...profiles.map(
      (k) => `| ${k} | ${profiles.map((m) => (k === m ? '—' : String(count(k, m)))).join(' | ')} |`,
    ),
    '',
    '## Per pair',
    '',
  ];
  for (let i = 0; i < profiles.length; i++) {
    for (let j = i + 1; j < profiles.length; j++) {
      const a = profiles[i]!;
      const b = profiles[j]!;
      const ab = rows.find((r) => r.kernel === a && r.model === b)!;
      const ba = rows.find((r) => r.kernel === b && r.model === a)!;
      const ids = [...new Set([...ab.separating, ...ba.separating].map((s) => s.id))].sort();
      out.push(`### ${a} vs ${b} (${ids.length})`, '');
      for (const id of ids) {
        const s = ab.separating.find((x) => x.id === id) ?? ba.separating.find((x) => x.id === id)!;
        const dirs =
          ab.separating.some((x) => x.id === id) && ba.separating.some((x) => x.id === id)
            ? ''
            : ` (only with ${ab.separating.some((x) => x.id === id) ? `${b} on ${a}` : `${a} on ${b}`})`;
        out.push(`- \`${id}\` step ${s.step} \`${s.call}\`: ${oneLine(s.difference)}${dirs}`);
      }
      out.push('');
    }
  }
  const errors = rows.flatMap((r) =>
    r.errors.map((e) => `${r.model} on ${r.kernel}: ${e.id}: ${e.message}`),
  );
  if (errors.length > 0)
    out.push('## Errors', '', ...[...new Set(errors)].map((e) => `- ${e}`), '');
  return out.join('\n');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The part of a `validate --format json` report the confusion matrix reads. */
export interface KernelReport {
  kernel: string;
  profile: string;
  /** The kernel's own profile (the one `auto` picked there), when known. */
  own?: string;
  results: { id: string; status: string }[];
}

export interface Confusion {
  kernels: string[];
  profiles: string[];
  /** failed[profile][kernel]: scenarios that failed or crashed; undefined: not run. */
  failed: Record<string, Record<string, number>>;
  skipped: Record<string, Record<string, number>>;
  /** own[kernel]: the profile `auto` picked on it, when the reports say. */
  own: Record<string, string>;
}

/**
 * Profiles × kernels from validate reports: how many scenarios diverged when the model ran
 * each profile on each kernel. The diagonal (the kernel's own profile) should be 0 and
 * every other cell at least 3. Reports of the same kernel and profile are merged.
 */
export function confusionMatrix(reports: KernelReport[]): Confusion {
  const c: Confusion = { kernels: [], profiles: [], failed: {}, skipped: {}, own: {} };
  for (const r of reports) {
    const profile = r.profile;
    if (r.own !== undefined) c.own[r.kernel] = r.own;
    if (!c.kernels.includes(r.kernel)) c.kernels.push(r.kernel);
    if (!c.profiles.includes(profile)) c.profiles.push(profile);
    const bad = r.results.filter((x) => x.status !== 'pass' && x.status !== 'skip').length;
    const skip = r.results.filter((x) => x.status === 'skip').length;
    (c.failed[profile] ??= {})[r.kernel] = (c.failed[profile][r.kernel] ?? 0) + bad;
    (c.skipped[profile] ??= {})[r.kernel] = (c.skipped[profile][r.kernel] ?? 0) + skip;
  }
  c.kernels.sort(byVersion((k) => k));
  c.profiles.sort(byVersion((p) => p.replace(/^[^\d]*/, '')));
  return c;
}

/** Orders by the version a string starts with (unparsable last), then by the string. */
function byVersion<T>(key: (x: T) => string): (a: T, b: T) => number {
  const v = (x: T) => parseVersion(key(x)) ?? [Infinity, 0, 0];
  return (a, b) => {
    const [x, y] = [v(a), v(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || key(a).localeCompare(key(b));
  };
}

export function formatConfusion(c: Confusion): string {
  const cell = (p: string, k: string) => {
    const f = c.failed[p]?.[k];
    // The kernel's own profile in bold: the cell that must be 0.
    const own = c.own[k] === p ? '**' : '';
    return f === undefined ? '·' : `${own}${f}${own} (${c.skipped[p]![k]} skip)`;
  };
  return [
    '| profile \\ kernel | ' + c.kernels.join(' | ') + ' |',
    `|---|${c.kernels.map(() => '---:').join('|')}|`,
    ...c.profiles.map((p) => `| ${p} | ${c.kernels.map((k) => cell(p, k)).join(' | ')} |`),
  ].join('\n');
}
