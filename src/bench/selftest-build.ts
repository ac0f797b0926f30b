/**
 * Builds the kernel's own tools/testing/selftests/mm/mremap_test from a kernel source tree, a
 * source tarball, or Debian's linux-source-* .deb (which ships the tarball), and parses what
 * it prints. Nothing of it is kept in this repository: only the two files the program needs
 * (mremap_test.c and ../kselftest.h) are extracted, into a cache directory.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchInputError } from './run.js';

const REL_TEST = 'tools/testing/selftests/mm/mremap_test.c';
const REL_KSFT = 'tools/testing/selftests/kselftest.h';

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error)
    throw new BenchInputError(`${what}: cannot run ${cmd} (${r.error.message}); install it`);
  if (r.status !== 0)
    throw new BenchInputError(
      `${what}: ${cmd} ${args.join(' ')} exited ${r.status}:\n${(r.stderr || r.stdout).trim()}`,
    );
  return r.stdout;
}

function cacheDirFor(file: string): string {
  const st = fs.statSync(file);
  const key = crypto
    .createHash('sha256')
    .update(`${path.resolve(file)}\0${st.size}\0${st.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
  return path.join(os.tmpdir(), `mremap-lab-selftest-${key}`);
}

/** The top of a tree holding the selftest's sources (extracted from an archive if needed). */
function findTop(root: string): string | null {
  if (fs.existsSync(path.join(root, REL_TEST))) return root;
  for (const d of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    if (fs.existsSync(path.join(root, d, REL_TEST))) return path.join(root, d);
  }
  return null;
}

function extractTarball(tarball: string, into: string): string {
  fs.mkdirSync(into, { recursive: true });
  run(
    'tar',
    ['-xf', tarball, '-C', into, '--wildcards', `*/${REL_TEST}`, `*/${REL_KSFT}`],
    `extracting the selftest from ${tarball}`,
  );
  const top = findTop(into);
  if (!top) throw new BenchInputError(`${tarball} has no ${REL_TEST}`);
  return top;
}

/**
 * The source top for DIR: a kernel tree as is; a .tar(.xz|.gz) or a linux-source .deb
 * unpacked once into a cache directory.
 */
export function selftestSourceTop(dir: string): string {
  if (!fs.existsSync(dir))
    throw new BenchInputError(
      `--beside-selftest ${dir}: no such file or directory (give a kernel source tree, its tarball, or a linux-source-*.deb)`,
    );
  if (fs.statSync(dir).isDirectory()) {
    const top = findTop(dir);
    if (!top)
      throw new BenchInputError(
        `--beside-selftest ${dir}: no ${REL_TEST} in it (give the top of a kernel source tree)`,
      );
    return top;
  }
  const cache = cacheDirFor(dir);
  const cached = findTop(path.join(cache, 'src'));
  if (cached) return cached;
  if (dir.endsWith('.deb')) {
    const debDir = path.join(cache, 'deb');
    fs.mkdirSync(debDir, { recursive: true });
    run('dpkg-deb', ['-x', dir, debDir], `unpacking ${dir}`);
    const usrSrc = path.join(debDir, 'usr/src');
    const tarball = fs.existsSync(usrSrc)
      ? fs.readdirSync(usrSrc).find((f) => /^linux-source-.*\.tar\.(xz|gz|bz2)$/.test(f))
      : undefined;
    if (!tarball)
      throw new BenchInputError(
        `${dir}: no usr/src/linux-source-*.tar.* inside (not a linux-source package?)`,
      );
    const top = extractTarball(path.join(usrSrc, tarball), path.join(cache, 'src'));
    fs.rmSync(debDir, { recursive: true, force: true });
    return top;
  }
  if (/\.tar(\.(xz|gz|bz2))?$/.test(dir)) return extractTarball(dir, path.join(cache, 'src'));
  throw new BenchInputError(
    `--beside-selftest ${dir}: not a directory, a .tar.xz/.tar.gz or a .deb`,
  );
}

/**
 * Compiles mremap_test as tools/testing/selftests/mm/Makefile does for it (`-Wall -O2 -I
 * $(top_srcdir)`, the tools uapi headers, `-U_FORTIFY_SOURCE`); returns the binary's path.
 */
export function buildSelftest(top: string, cc = process.env.CC ?? 'cc'): string {
  const dir = path.join(top, 'tools/testing/selftests/mm');
  const bin = path.join(
    os.tmpdir(),
    `mremap-lab-mremap_test-${crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(dir, 'mremap_test.c')))
      .update(fs.readFileSync(path.join(top, REL_KSFT)))
      .digest('hex')
      .slice(0, 16)}`,
  );
  if (fs.existsSync(bin)) return bin;
  const tmp = `${bin}.${process.pid}`;
  run(
    cc,
    [
      '-Wall',
      '-O2',
      '-I',
      top,
      '-isystem',
      path.join(top, 'tools/include/uapi'),
      '-U_FORTIFY_SOURCE',
      path.join(dir, 'mremap_test.c'),
      '-o',
      tmp,
    ],
    `building ${REL_TEST}`,
  );
  fs.renameSync(tmp, bin);
  return bin;
}

export interface SelftestRun {
  /** ns per case name, for the cases that printed a time. */
  times: Map<string, number>;
  /** Names the selftest reported as failed. */
  failed: string[];
}

/**
 * Reads KTAP lines: `ok N NAME` (or `not ok N NAME`) followed by `\tmremap time: T ns` for
 * the cases run_mremap_test_case() timed.
 */
export function parseSelftestOutput(text: string): SelftestRun {
  const times = new Map<string, number>();
  const failed: string[] = [];
  let last: string | null = null;
  for (const line of text.split('\n')) {
    const ok = /^(not )?ok \d+ (?:# \w+ )?(.*)$/.exec(line);
    if (ok) {
      last = ok[2]!.trim();
      if (ok[1]) failed.push(last);
      continue;
    }
    const t = /^\s*mremap time:\s*(\d+)ns/.exec(line);
    if (t && last !== null) times.set(last, Number(t[1]));
  }
  return { times, failed };
}
