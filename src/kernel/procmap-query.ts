/**
 * PROCMAP_QUERY (v6.11, fs/proc/task_mmu.c:do_procmap_query): ask the kernel for one VMA by
 * address instead of reading the whole maps text. The window walk runs in C++ (one native
 * call for all VMAs of a window); without the ioctl (ENOTTY, or EINVAL from a kernel that
 * does not know the request) the text parser answers instead.
 */
import { native, type NativeProcmapEntry } from '../native.js';
import { Errno } from '../space/errno.js';
import { err, ok, type Result } from '../space/result.js';
import { VmaTable, readMapsTable } from './maps.js';

/** query_flags (uapi linux/fs.h). The first four double as filters and as result bits. */
export const PROCMAP_QUERY = {
  VMA_READABLE: 0x01,
  VMA_WRITABLE: 0x02,
  VMA_EXECUTABLE: 0x04,
  VMA_SHARED: 0x08,
  COVERING_OR_NEXT_VMA: 0x10,
  FILE_BACKED_VMA: 0x20,
} as const;

/** ENOTTY: no such ioctl; EINVAL: older procfs rejects the unknown request. */
function missingIoctl(errno: number): boolean {
  return errno === Errno.ENOTTY || errno === Errno.EINVAL;
}

/** Runs fn with an open /proc/PID/maps fd. */
function withMapsFd<T>(pid: number, fn: (fd: number) => Result<T>): Result<T> {
  const o = native.procOpen(pid, 'maps');
  if (!o.ok) return err(o.errno);
  try {
    return fn(o.value);
  } finally {
    native.procClose(o.value);
  }
}

/**
 * One PROCMAP_QUERY: the VMA covering addr (ENOENT if none), or with COVERING_OR_NEXT_VMA
 * the first VMA ending above addr. Extra filter bits may be or'ed into flags.
 */
export function queryVma(
  pid: number,
  addr: bigint,
  flags: number = PROCMAP_QUERY.COVERING_OR_NEXT_VMA,
): Result<NativeProcmapEntry> {
  return withMapsFd(pid, (fd) => {
    const r = native.procmapQuery(fd, addr, BigInt(flags));
    return r.ok ? ok(r.value) : err(r.errno);
  });
}

let ioctlMissing = false;

/** Whether the last attempt found PROCMAP_QUERY missing (then the text parser is used). */
export function procmapQueryMissing(): boolean {
  return ioctlMissing;
}

export interface WindowOptions {
  /** Fetch names (a second copy-out per VMA). Default true. */
  names?: boolean;
  /** Use the text parser even if the ioctl exists (tests, comparisons). */
  forceText?: boolean;
}

/**
 * The VMAs intersecting [start, end), full extents, in address order: PROCMAP_QUERY walk, or
 * the maps text filtered to the window where the ioctl is missing.
 */
export function queryWindow(
  pid: number,
  start: bigint,
  end: bigint,
  opts: WindowOptions = {},
): Result<VmaTable> {
  if (!opts.forceText && !ioctlMissing) {
    const r = withMapsFd(pid, (fd) => {
      const w = native.procmapQueryWindow(fd, start, end, opts.names ?? true);
      return w.ok ? ok(new VmaTable(w.value, 'procmap_query')) : err(w.errno);
    });
    if (r.ok || !missingIoctl(r.errno)) return r;
    // A valid window never gives EINVAL on 6.11+, so EINVAL here means the ioctl is unknown.
    ioctlMissing = true;
  }
  const t = readMapsTable(pid);
  if (!t.ok) return t;
  const lo = t.value.lowerBound(start);
  let hi = lo;
  while (hi < t.value.count && t.value.start(hi) < end) hi++;
  const c = t.value.cols;
  return ok(
    new VmaTable(
      {
        count: hi - lo,
        start: c.start.slice(lo, hi),
        end: c.end.slice(lo, hi),
        offset: c.offset.slice(lo, hi),
        inode: c.inode.slice(lo, hi),
        devMajor: c.devMajor.slice(lo, hi),
        devMinor: c.devMinor.slice(lo, hi),
        perms: c.perms.slice(lo, hi),
        nameIdx: c.nameIdx.slice(lo, hi),
        names: c.names,
        badLine: 0,
      },
      'maps',
    ),
  );
}
