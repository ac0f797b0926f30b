/**
 * tracefs: where it is, mounting it when nobody has, and reading/writing its files with the
 * errno kept (EPERM from lockdown or a restricted file is an answer, not a crash).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export type FsResult<T> = { ok: true; value: T } | { ok: false; code: string };

const CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/** The tracefs mount point from /proc/self/mounts (tracefs itself, or debugfs's tracing/). */
export function findTracefs(mounts = fs.readFileSync('/proc/self/mounts', 'utf8')): string | null {
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'tracefs' && dir !== undefined) return dir.replace(/\\040/g, ' ');
  }
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'debugfs' && dir !== undefined && fs.existsSync(`${dir}/tracing/trace`))
      return `${dir}/tracing`;
  }
  return null;
}

/**
 * Finds tracefs, mounting it at /sys/kernel/tracing when it is not mounted (root only; the
 * mount is left in place, as `perf` and `trace-cmd` do).
 */
export function ensureTracefs(): FsResult<string> {
  const found = findTracefs();
  if (found !== null) return { ok: true, value: found };
  const dir = CANDIDATES[0]!;
  if (!fs.existsSync(dir)) return { ok: false, code: `no ${dir} (CONFIG_TRACING off?)` };
  // node has no mount(2); busybox/util-linux mount is on every system that has tracefs.
  const r = spawnMount(dir);
  if (!r.ok) return r;
  const again = findTracefs();
  return again === null ? { ok: false, code: 'tracefs did not mount' } : { ok: true, value: again };
}

function spawnMount(dir: string): FsResult<null> {
  const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', dir], { encoding: 'utf8' });
  if (r.error) return { ok: false, code: `mount: ${errCode(r.error)}` };
  if (r.status !== 0) return { ok: false, code: `mount -t tracefs: ${r.stderr.trim()}` };
  return { ok: true, value: null };
}

export function readTrace(dir: string, file: string): FsResult<string> {
  try {
    return { ok: true, value: fs.readFileSync(`${dir}/${file}`, 'utf8') };
  } catch (e) {
    return { ok: false, code: errCode(e) };
  }
}

/** One write(2) per call: tracefs parses each write as one command. */
export function writeTrace(
  dir: string,
  file: string,
  text: string,
  append = false,
): FsResult<null> {
  let fd = -1;
  try {
    fd = fs.openSync(`${dir}/${file}`, append ? 'a' : 'w');
    fs.writeSync(fd, text);
    return { ok: true, value: null };
  } catch (e) {
    return { ok: false, code: errCode(e) };
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
