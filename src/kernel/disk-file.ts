/**
 * Regular files for the `file` scenario step. The model treats them as page-cache files
 * that punch holes (MADV_REMOVE → vfs_fallocate(PUNCH_HOLE) succeeds) and are not shmem
 * (no userfaultfd, no shmem swap), so the directory must be on a disk filesystem that
 * punches holes: ext4, xfs or btrfs (statfs f_type). TMPDIR (os.tmpdir()) is used, as for
 * any temporary file; on this project's host that is /tmp on ext4, while a VM guest's /tmp is
 * its initramfs (tmpfs or ramfs, which lacks punch hole: EOPNOTSUPP), where `diskFile` is absent.
 *
 * Every page is written with its own 4 KiB pwrite and the file is fsynced: each page is then
 * an order-0, clean, up-to-date folio in the page cache, so faults find it there (fault-around
 * maps it, do_sync_mmap_readahead never reads the disk) — what the model assumes.
 */
import { closeSync, fsyncSync, openSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileContents } from '../space/address-space.js';
import { PAGE_SIZE } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { err, ok, type Result } from '../space/result.js';

/** statfs f_type magics (include/uapi/linux/magic.h) of filesystems that punch holes. */
const DISK_FS: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
]);

let writable: Map<string, boolean> | undefined;

/** Whether a file can be created in dir (checked once per directory). */
function canCreateIn(dir: string): boolean {
  writable ??= new Map();
  let ok = writable.get(dir);
  if (ok === undefined) {
    const probe = `${dir}/.mremap-lab-probe-${process.pid}`;
    try {
      closeSync(openSync(probe, 'wx'));
      unlinkSync(probe);
      ok = true;
    } catch {
      ok = false;
    }
    writable.set(dir, ok);
  }
  return ok;
}

/** The directory a disk file is made in and its filesystem, or why there is none. */
export function diskFileDir(): { dir: string; fs: string } | { why: string } {
  const dir = tmpdir();
  let type: number;
  try {
    type = statfsSync(dir).type;
  } catch (e) {
    return { why: `cannot statfs TMPDIR ${dir}: ${(e as Error).message}` };
  }
  const fs = DISK_FS.get(type);
  if (fs !== undefined) {
    // A VM guest sees the host's directory through a read-only share that reports the
    // host's f_type: only a file actually made there proves the directory is usable.
    if (canCreateIn(dir)) return { dir, fs };
    return {
      why: `TMPDIR ${dir} (${fs}) is not writable here; set TMPDIR to a writable directory`,
    };
  }
  return {
    why: `TMPDIR ${dir} is not on ext4, xfs or btrfs (f_type 0x${type.toString(16)}); set TMPDIR to a directory on one`,
  };
}

let seq = 0;

function errnoOf(e: unknown): Result<never> {
  const errno = (e as { errno?: number }).errno;
  // Node's fs errors carry the negated errno.
  return err(typeof errno === 'number' ? Math.abs(errno) : Errno.EIO);
}

/** Creates, unlinks, fills and syncs the file; returns its fd (the caller closes it). */
export function createDiskFile(size: bigint, contents?: FileContents): Result<number> {
  const where = diskFileDir();
  if ('why' in where) return err(Errno.EOPNOTSUPP);
  const path = join(where.dir, `mremap-lab-${process.pid}-${++seq}`);
  let fd: number;
  try {
    fd = openSync(path, 'wx+', 0o600);
  } catch (e) {
    return errnoOf(e);
  }
  try {
    // Unlinked at once: the inode goes with the last fd or mapping, even if we crash.
    unlinkSync(path);
    const page = Buffer.alloc(Number(PAGE_SIZE));
    const pages = Number((size + PAGE_SIZE - 1n) / PAGE_SIZE);
    for (let p = 0; p < pages; p++) {
      page.writeBigUInt64LE(BigInt.asUintN(64, contents?.get(p) ?? 0n), 0);
      const last = p === pages - 1 ? Number(size - BigInt(p) * PAGE_SIZE) : page.length;
      writeSync(fd, page, 0, last, p * page.length);
    }
    fsyncSync(fd);
    return ok(fd);
  } catch (e) {
    closeSync(fd);
    return errnoOf(e);
  }
}

/** pwrite of each tag at its page's start (a memfd's initial contents). */
export function writeTags(fd: number, contents: FileContents): Result<0> {
  const buf = Buffer.alloc(8);
  try {
    for (const [p, tag] of contents) {
      buf.writeBigUInt64LE(BigInt.asUintN(64, tag), 0);
      writeSync(fd, buf, 0, 8, p * Number(PAGE_SIZE));
    }
    return ok(0);
  } catch (e) {
    return errnoOf(e);
  }
}
