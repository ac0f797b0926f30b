/**
 * The only door to the C++ addon: loads it with node-gyp-build and types what it exports.
 * Everything else imports from here. The addon returns { ok, value } / { ok: false, errno };
 * the symbolic errno name is added on this side (see space/result.ts).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** What a raw syscall wrapper returns before the errno name is attached. */
export type RawResult<T> = { ok: true; value: T } | { ok: false; errno: number };

export interface NativeBinding {
  // ── syscalls.cc ─────────────────────────────────────────────────────────────
  mmap(
    addr: bigint,
    length: bigint,
    prot: number,
    flags: number,
    fd: number,
    offset: bigint,
  ): RawResult<bigint>;
  munmap(addr: bigint, length: bigint): RawResult<number>;
  mremap(
    addr: bigint,
    oldLen: bigint,
    newLen: bigint,
    flags: bigint,
    newAddr: bigint,
  ): RawResult<bigint>;
  mprotect(addr: bigint, length: bigint, prot: number): RawResult<number>;
  madvise(addr: bigint, length: bigint, advice: number): RawResult<number>;
  mlock2(addr: bigint, length: bigint, flags: number): RawResult<number>;
  munlock(addr: bigint, length: bigint): RawResult<number>;
  mseal(addr: bigint, length: bigint, flags: bigint): RawResult<number>;
  memfdCreate(name: string, flags: number): RawResult<number>;
  ftruncate(fd: number, length: bigint): RawResult<number>;
  close(fd: number): RawResult<number>;
  /** userfaultfd(flags) + UFFDIO_API(features); returns the fd. */
  uffdOpen(features: bigint): RawResult<number>;
  /** UFFDIO_REGISTER with the given mode bits; returns the ioctls mask. */
  uffdRegister(fd: number, addr: bigint, length: bigint, mode: bigint): RawResult<bigint>;
  uffdUnregister(fd: number, addr: bigint, length: bigint): RawResult<number>;
  /** uname(2) release string. */
  unameRelease(): string;
  getpid(): number;
  /** The kernel's own numbers for this build of the addon. */
  constants(): Record<string, number>;

  // ── memory.cc ───────────────────────────────────────────────────────────────
  /** Writes an 8-byte tag at addr with process_vm_writev (EFAULT instead of SIGSEGV). */
  writeTag(addr: bigint, tag: bigint): RawResult<number>;
  /** Reads 8 bytes at addr with process_vm_readv. */
  readTag(addr: bigint): RawResult<bigint>;
  /** Reads tags at each of `count` pages from addr; `ok` marks which reads succeeded. */
  readTags(addr: bigint, count: number, stride: bigint, out: BigUint64Array, ok: Uint8Array): number;
  /** Fills [addr, addr+len) with a pattern derived from seed; returns bytes written or errno. */
  fillPattern(addr: bigint, length: bigint, seed: bigint): RawResult<bigint>;
  /** Verifies the pattern; value is the offset of the first mismatch or -1n. */
  verifyPattern(addr: bigint, length: bigint, seed: bigint): RawResult<bigint>;

  // ── process.cc ──────────────────────────────────────────────────────────────
  /** fork(); the child blocks on a pipe until released. Value is the child's pid. */
  forkIdle(): RawResult<number>;
  /** Wakes the child so it exits, then reaps it. */
  releaseChild(pid: number): RawResult<number>;
  /** SIGKILL + reap. */
  killChild(pid: number): RawResult<number>;

  // ── procfs.cc (observation; see src/kernel/) ─────────────────────────────────
}

function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/ and dist/ both sit one level below the package root.
  const root = path.resolve(here, '..');
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
  return nodeGypBuild(root);
}

export const native: NativeBinding = load();
