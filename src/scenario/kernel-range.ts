/**
 * Kernel version ranges for scenarios: `requires.minKernel` and the ranges hand-written
 * expectations carry (`expect.kernels: ">=6.17"`). A range is one or more comparators
 * separated by spaces, all of which must hold: `>=6.7 <6.16`. A bare version (`6.12`) means
 * that minor release with any patch level. Versions are major.minor or major.minor.patch;
 * a release string is read up to its first non-version character, so Debian's
 * `6.1.0-27-amd64` is 6.1.0 (its uname does not carry the stable patch level).
 */

export type Version = readonly [number, number, number];

const VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?/;
const COMPARATOR = /^(>=|<=|>|<|=)?(\d+\.\d+(?:\.\d+)?)$/;

/** The version at the start of a release string, or null when there is none. */
export function parseVersion(release: string): Version | null {
  const m = VERSION.exec(release);
  return m === null ? null : [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function cmp(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Why `range` is not a version range, or null when it is one. */
export function rangeError(range: string): string | null {
  const parts = range.trim().split(/\s+/);
  if (range.trim() === '') return 'expected a version range such as ">=6.17" or ">=6.7 <6.16"';
  for (const p of parts) {
    if (!COMPARATOR.test(p))
      return `"${p}" is not a comparator: use >=, >, <=, <, = or nothing before a version like 6.17 or 6.12.40`;
  }
  return null;
}

/** Does the version of `release` satisfy every comparator of `range`? Unparsable: true. */
export function inRange(release: string, range: string): boolean {
  const v = parseVersion(release);
  if (v === null) return true;
  return range
    .trim()
    .split(/\s+/)
    .every((p) => {
      const m = COMPARATOR.exec(p);
      if (m === null) return true;
      const op = m[1] ?? '';
      const bound = parseVersion(m[2]!)!;
      const c = cmp(v, bound);
      switch (op) {
        case '>=':
          return c >= 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        case '<':
          return c < 0;
        case '=':
          return c === 0;
        default:
          // A bare version names a release line: 6.12 is every 6.12.x, 6.12.40 only itself.
          return m[2]!.split('.').length === 3 ? c === 0 : v[0] === bound[0] && v[1] === bound[1];
      }
    });
}

/** requires.minKernel: is `release` at least `want`? Unparsable release: yes. */
export function versionAtLeast(release: string, want: string): boolean {
  return inRange(release, `>=${want}`);
}
