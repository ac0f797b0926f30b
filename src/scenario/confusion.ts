/**
 * The confusion matrix (model profiles × real kernels) from `validate --profiles` reports,
 * and the rule CI holds it to: on each kernel its own profile (the one `auto` picks) fails
 * nothing, and every other release profile fails at least MIN_CAUGHT scenarios — unless
 * the two profiles have the same rules, so that no scenario could tell them apart.
 */
import { getProfile, type Profile } from '../model/profiles.js';
import type { Confusion, KernelReport } from './profile-matrix.js';
import type { RunReport } from './report/types.js';

/** A wrong profile must be caught by at least this many scenarios on every kernel. */
export const MIN_CAUGHT = 3;

/**
 * One report per profile from a `validate --profiles` report: each result's verdict under
 * that profile. A result without one (the worker crashed or timed out before any profile
 * was judged) counts with its own status under every profile.
 */
export function reportsByProfile(r: RunReport): KernelReport[] {
  const profiles = r.profiles ?? [r.profile];
  return profiles.map((p) => ({
    kernel: r.kernel,
    profile: p,
    own: r.profile,
    results: r.results.map((x) => ({ id: x.id, status: x.profiles?.[p]?.status ?? x.status })),
  }));
}

/**
 * The validate reports in a JSON document: one `validate --format json` report, or the
 * `validate --kernel … --format json` document with one report per kernel. Null when the
 * document is neither.
 */
export function validateReports(doc: unknown): RunReport[] | null {
  const isReport = (r: unknown): r is RunReport =>
    typeof r === 'object' &&
    r !== null &&
    typeof (r as RunReport).kernel === 'string' &&
    typeof (r as RunReport).profile === 'string' &&
    Array.isArray((r as RunReport).results);
  if (isReport(doc)) return [doc];
  const kernels = (doc as { kernels?: unknown } | null)?.kernels;
  if (typeof kernels !== 'object' || kernels === null) return null;
  const all = Object.values(kernels);
  return all.every(isReport) ? all : null;
}

/** The switches of a profile, without what only names or describes it. */
function rules(p: Profile): string {
  const { name: _n, version: _v, description: _d, ...rest } = p;
  return JSON.stringify(rest);
}

/** Two profiles with the same rules predict the same on every scenario. */
export function sameRules(a: string, b: string): boolean {
  return rules(getProfile(a)) === rules(getProfile(b));
}

export interface ConfusionVerdict {
  /** Broken rules, one line each (CI fails on any). */
  problems: string[];
  /** Cells under MIN_CAUGHT allowed because the profiles have the same rules. */
  exempt: string[];
}

export function checkConfusion(c: Confusion): ConfusionVerdict {
  const v: ConfusionVerdict = { problems: [], exempt: [] };
  for (const k of c.kernels) {
    const own = c.own[k];
    if (own === undefined) {
      v.problems.push(`${k}: the report does not say which profile auto picked`);
      continue;
    }
    for (const p of c.profiles) {
      const n = c.failed[p]?.[k];
      if (n === undefined) v.problems.push(`${k}: profile ${p} was not judged`);
      else if (p === own) {
        if (n > 0) v.problems.push(`${k}: its own profile ${p} fails ${n} scenario(s)`);
      } else if (n < MIN_CAUGHT) {
        if (sameRules(own, p))
          v.exempt.push(
            `${k}: ${p} caught by ${n} (< ${MIN_CAUGHT}), allowed: its rules are ${own}'s, no scenario can tell them apart`,
          );
        else
          v.problems.push(
            `${k}: the wrong profile ${p} is caught by ${n} scenario(s) (< ${MIN_CAUGHT})`,
          );
      }
    }
  }
  return v;
}

/** The --profiles lines under validate's pretty report: this kernel's column. */
export function formatProfileCounts(r: RunReport): string {
  const lines = reportsByProfile(r).map((k) => {
    const failed = k.results.filter((x) => x.status !== 'pass' && x.status !== 'skip').length;
    const skipped = k.results.filter((x) => x.status === 'skip').length;
    return `  ${k.profile}: ${failed} failed, ${skipped} skipped${k.profile === r.profile ? ' (chosen)' : ''}`;
  });
  return ['profiles, judged from the same kernel run:', ...lines].join('\n');
}
