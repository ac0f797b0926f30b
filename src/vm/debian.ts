/**
 * Debian kernel names ("debian:6.1", "debian:6.12", "debian:<package version>",
 * "debian:<package name>") resolved against the host's apt lists, and fetched with
 * `apt-get download` (no installation, no root needed beyond what apt's cache allows).
 */
import fs from 'node:fs';
import path from 'node:path';
import { compareVersions } from './cache.js';
import { VmInputError } from './errors.js';
import { runTool as run } from './tools.js';

export type DebianSpec =
  | { kind: 'family'; family: string }
  | { kind: 'version'; family: string; version: string }
  | { kind: 'package'; name: string };

/** Parse the part after "debian:"; null when it is none of the accepted forms. */
export function parseDebianSpec(rest: string): DebianSpec | null {
  if (/^\d+\.\d+$/.test(rest)) return { kind: 'family', family: rest };
  const v = /^(\d+\.\d+)\.\d+-[0-9A-Za-z.+~]+$/.exec(rest);
  if (v) return { kind: 'version', family: v[1]!, version: rest };
  if (/^linux-image-[0-9A-Za-z.+~-]+$/.test(rest)) return { kind: 'package', name: rest };
  return null;
}

/** The "6.1" of "6.1.0-57-amd64" or "6.12" of "6.12.117+deb12-amd64". */
export function releaseFamily(release: string): string {
  return /^(\d+\.\d+)/.exec(release)?.[1] ?? release;
}

/**
 * The generic amd64 flavour of a family: linux-image-6.1.0-<abi>-amd64 (bookworm's own
 * kernel) or linux-image-6.12.<n>+deb12-amd64 (the backport); not cloud, rt or -dbg.
 */
export function familyPackages(family: string, names: string[]): string[] {
  const f = family.replace('.', '\\.');
  const re = new RegExp(`^linux-image-${f}\\.\\d+(-\\d+)?(\\+deb\\d+)?-amd64$`);
  return names.filter((n) => re.test(n)).sort(compareVersions);
}

const APT_HINT =
  'is this a Debian/Ubuntu host with the archive in its apt sources? Run apt-get update, or pass a .deb or bzImage path instead';

function searchFamily(family: string): string[] {
  const out = run('apt-cache', [
    'search',
    '--names-only',
    `^linux-image-${family.replace('.', '\\.')}`,
  ]);
  return familyPackages(
    family,
    out.split('\n').map((l) => l.split(' ')[0] ?? ''),
  );
}

/** The package name and version that `apt-get download` should fetch. */
export function resolveDebian(spec: DebianSpec): { name: string; version: string } {
  if (spec.kind === 'package') return { name: spec.name, version: candidate(spec.name) };
  const names = searchFamily(spec.family);
  if (names.length === 0)
    throw new VmInputError(
      `no linux-image-${spec.family}.*-amd64 package in the apt lists: ${APT_HINT}`,
    );
  if (spec.kind === 'family') {
    const name = names[names.length - 1]!;
    return { name, version: candidate(name) };
  }
  // apt-cache madison: " name | version | source", one line per version in the lists.
  for (const line of run('apt-cache', ['madison', ...names]).split('\n')) {
    const [name, version] = line.split('|').map((s) => s.trim());
    if (name && version === spec.version) return { name, version };
  }
  throw new VmInputError(
    `no linux-image package of version ${spec.version} in the apt lists (apt-cache madison ${names[names.length - 1]} shows what there is)`,
  );
}

function candidate(name: string): string {
  const m = /Candidate:\s*(\S+)/.exec(run('apt-cache', ['policy', name]));
  if (!m || m[1] === '(none)')
    throw new VmInputError(`package ${name} is not in the apt lists: ${APT_HINT}`);
  return m[1]!;
}

/** Download the .deb into dir; returns its path. */
export function downloadDeb(name: string, version: string, dir: string): string {
  run('apt-get', ['download', `${name}=${version}`], dir);
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.deb'));
  if (!file) throw new Error(`apt-get download ${name}=${version} left no .deb in ${dir}`);
  return path.join(dir, file);
}
