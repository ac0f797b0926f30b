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
  // Every syscall argument is an unsigned long: bigint here, uint64_t in C++.
  mmap(
    addr: bigint,
    length: bigint,
    prot: bigint,
    flags: bigint,
    fd: bigint,
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
  mprotect(addr: bigint, length: bigint, prot: bigint): RawResult<number>;
  madvise(addr: bigint, length: bigint, advice: bigint): RawResult<number>;
  mlock2(addr: bigint, length: bigint, flags: bigint): RawResult<number>;
  munlock(addr: bigint, length: bigint): RawResult<number>;
  mseal(addr: bigint, length: bigint, flags: bigint): RawResult<number>;
  memfdCreate(name: string, flags: number): RawResult<number>;
  ftruncate(fd: number, length: bigint): RawResult<number>;
  close(fd: number): RawResult<number>;
  /** userfaultfd(flags) + UFFDIO_API(features); returns the fd. */
  /** userfaultfd + UFFDIO_API; kernelFaults: without UFFD_USER_MODE_ONLY, else with it where known. */
  uffdOpen(features: bigint, kernelFaults?: boolean): RawResult<number>;
  /** UFFDIO_REGISTER with the given mode bits; returns the ioctls mask. */
  uffdRegister(fd: number, addr: bigint, length: bigint, mode: bigint): RawResult<bigint>;
  uffdUnregister(fd: number, addr: bigint, length: bigint): RawResult<number>;
  /** Stops the fd's event reader (started by uffdOpen for EVENT_* features), then close(). */
  uffdClose(fd: number): RawResult<number>;
  /** uname(2) release string. */
  unameRelease(): string;
  getpid(): number;
  /** Pins the calling thread to the n-th CPU it may run on (n modulo their count): that CPU. */
  pinThread(n: number): RawResult<number>;
  /** The kernel's own numbers for this build of the addon. */
  constants(): Record<string, number>;
  /** One PROCMAP_QUERY ioctl on /proc/self/maps (6.11+). */
  probeProcmapQuery(): RawResult<number>;
  /** One PAGEMAP_SCAN ioctl on /proc/self/pagemap (6.7+). */
  probePagemapScan(): RawResult<number>;

  // ── memory.cc (pid 0 = this process; any other pid = a forked child) ─────────
  /** Writes an 8-byte tag at addr with process_vm_writev: a write fault, EFAULT instead of SIGSEGV. */
  writeTag(pid: number, addr: bigint, tag: bigint): RawResult<number>;
  /**
   * The 8 bytes at addr through /proc/<pid>/mem: no pin, so a CoW-shared page stays shared
   * (process_vm_readv would unshare it). Not a read fault: see KernelSpace.read.
   */
  peekTag(pid: number, addr: bigint): RawResult<bigint>;
  /** Fills [addr, addr+len) with the pattern of `seed`; value is the length. */
  fillPattern(pid: number, addr: bigint, length: bigint, seed: bigint): RawResult<bigint>;
  /** Value is the offset of the first byte that differs from the pattern, or 2^64-1. */
  verifyPattern(pid: number, addr: bigint, length: bigint, seed: bigint): RawResult<bigint>;

  // ── process.cc ──────────────────────────────────────────────────────────────
  /** fork(); the child waits for commands on a pipe. Value is the child's pid. */
  forkIdle(): RawResult<number>;
  /** Runs syscall(nr, args…) inside the child and returns its result. */
  childSyscall(pid: number, nr: number, ...args: bigint[]): RawResult<bigint>;
  /** memfd_create("mremap-lab", MFD_CLOEXEC) inside the child; value is the child's fd. */
  childMemfd(pid: number): RawResult<bigint>;
  /** userfaultfd + UFFDIO_API inside the child (as uffdOpen); value is the child's fd. */
  childUffdOpen(pid: number, features: bigint, kernelFaults?: boolean): RawResult<number>;
  /** UFFDIO_REGISTER on the child's userfaultfd. */
  childUffdRegister(
    pid: number,
    fd: number,
    addr: bigint,
    length: bigint,
    mode: bigint,
  ): RawResult<bigint>;
  /** Closes the child's pipe so it exits, then reaps it. Value is the exit status. */
  releaseChild(pid: number): RawResult<number>;
  /** SIGKILL, then reap. */
  killChild(pid: number): RawResult<number>;
  /** RLIMIT_MEMLOCK: [soft, hard] in bytes (2^64-1 = unlimited). */
  memlockLimit(): RawResult<[bigint, bigint]>;
  /** Sets RLIMIT_MEMLOCK's soft limit (bytes); the hard limit stays. */
  setMemlockLimit(soft: bigint): RawResult<number>;

  // ── load.cc ─────────────────────────────────────────────────────────────────
  /**
   * A real 8-byte CPU load at addr in a fork of this process (pid 0) or of the idle child
   * pid, reaped before returning: signo 0 and the value, or the signal (SIGSEGV 11, SIGBUS 7)
   * and its si_code.
   */
  loadProbe(pid: number, addr: bigint): RawResult<{ signo: number; code: number; value: bigint }>;

  // ── timing.cc ───────────────────────────────────────────────────────────────
  /**
   * `iterations` moves of [a, a+len) to b and back (MAYMOVE|FIXED), timed in C++ with
   * CLOCK_MONOTONIC around the whole loop. Value: total nanoseconds for 2*iterations calls.
   */
  benchMremapPingPong(a: bigint, b: bigint, length: bigint, iterations: number): RawResult<number>;
  /** The same loop in a forked single-threaded child (no TLB-flush IPIs to Node's threads). */
  benchMremapPingPongIsolated(
    a: bigint,
    b: bigint,
    length: bigint,
    iterations: number,
  ): RawResult<number>;
  /** `iterations` same-size no-op mremaps of [a, a+len); total nanoseconds. */
  benchMremapNoop(a: bigint, length: bigint, iterations: number): RawResult<number>;
  /**
   * One benchmark case (src/bench/layout.ts builds `params`; timing.cc reads each property by
   * name and throws a TypeError naming a missing, mistyped or unknown one): every
   * sample sets its layout up outside the clock, brackets one mremap with CLOCK_MONOTONIC,
   * verifies and tears down; mode 'isolated' runs all samples in a forked single-threaded child.
   * SIGINT during the call stops after the current sample (`interrupted`). Samples in ns
   * are written to out[0..done).
   */
  benchCase(params: NativeBenchParams, out: Float64Array): RawResult<NativeBenchCaseResult>;

  // ── holes.cc ────────────────────────────────────────────────────────────────
  /**
   * Covers [addr, addr+len) with an arena placeholder (PROT_NONE, shared, of the memfd
   * "mremap-lab-hole", MADV_DONTFORK). replace=false: MAP_FIXED_NOREPLACE (EEXIST if
   * anything is there); true: MAP_FIXED over memory the caller owns.
   */
  placeHole(addr: bigint, length: bigint, replace: boolean): RawResult<number>;

  // ── procfs.cc (observation; see src/kernel/) ─────────────────────────────────
  /** Columns of VMAs as returned by mapsRead/mapsParse/procmapQueryWindow (see kernel/maps.ts). */
  mapsRead(pid: number): RawResult<NativeVmaColumns>;
  /** The same parser over captured maps text; `badLine` is the first unparsable line (1-based) or 0. */
  mapsParse(text: Uint8Array): NativeVmaColumns;
  /** A whole procfs text file (smaps, smaps_rollup, status). */
  readProcText(path: string): RawResult<string>;
  /** open(/proc/<pid>/<file>, O_RDONLY); kpageflags/kpagecount ignore pid. */
  procOpen(
    pid: number,
    file: 'maps' | 'pagemap' | 'mem' | 'kpageflags' | 'kpagecount',
  ): RawResult<number>;
  procClose(fd: number): RawResult<number>;
  /** One PROCMAP_QUERY ioctl on a /proc/<pid>/maps fd. */
  procmapQuery(fd: number, addr: bigint, flags: bigint): RawResult<NativeProcmapEntry>;
  /** All VMAs intersecting [start, end) via PROCMAP_QUERY COVERING_OR_NEXT, in one call. */
  procmapQueryWindow(
    fd: number,
    start: bigint,
    end: bigint,
    wantNames: boolean,
  ): RawResult<NativeVmaColumns>;
  /** Raw pagemap entries of `count` pages from addr into `out` (one pread). Value: entries read. */
  pagemapRead(fd: number, addr: bigint, count: number, out: BigUint64Array): RawResult<number>;
  /** One pread, decoded in C++: `state` bits (kernel/pagemap.ts PG), `pfn` (-1 if none/hidden). */
  pagemapDecode(
    fd: number,
    addr: bigint,
    count: number,
    state: Uint8Array,
    pfn: Float64Array,
  ): RawResult<number>;
  /** One PAGEMAP_SCAN ioctl; `out` holds (start, end, categories) triples. */
  pagemapScan(
    fd: number,
    start: bigint,
    end: bigint,
    flags: bigint,
    inverted: bigint,
    mask: bigint,
    anyof: bigint,
    returnMask: bigint,
    maxPages: bigint,
    out: BigUint64Array,
  ): RawResult<{ count: number; walkEnd: bigint }>;
  /** One u64 per PFN from a /proc/kpageflags or /proc/kpagecount fd. */
  kpageRead(fd: number, pfns: Float64Array, out: BigUint64Array): RawResult<number>;
  /** 8 bytes at each address through a /proc/<pid>/mem fd (no faults for present pages). */
  readTagsAt(fd: number, addrs: BigUint64Array, out: BigUint64Array, ok: Uint8Array): number;
}

/** procfs.cc: VMAs as columns (no per-VMA object crosses from C++). perms: r=1 w=2 x=4 s=8. */
export interface NativeVmaColumns {
  count: number;
  start: BigUint64Array;
  end: BigUint64Array;
  offset: BigUint64Array;
  inode: BigUint64Array;
  devMajor: Uint32Array;
  devMinor: Uint32Array;
  perms: Uint8Array;
  /** Index into `names`; 0 is the empty name. */
  nameIdx: Uint32Array;
  names: string[];
  badLine: number;
  /** PROCMAP_QUERY only: vma_kernel_pagesize. */
  pageSize?: BigUint64Array;
}

/**
 * timing.cc BenchParams: one benchCase call. Addresses and lengths are numbers (arena
 * addresses stay below 2^53, so they are exact); the sampler works on exactly these ranges.
 */
export interface NativeBenchParams {
  /** The arena range each sample clears and covers with placeholders again. */
  regionLo: number;
  regionHi: number;
  src: number;
  dst: number;
  oldLen: number;
  newLen: number;
  /** 'empty' brackets nothing: the timing overhead per sample. */
  op: 'move' | 'resize' | 'empty';
  /** mremap flags. */
  flags: number;
  kind: 'private-anon' | 'shared-anon' | 'memfd';
  /** Pages written before the call, per thousand, spread evenly (timing.cc Selected()). */
  populatePermille: number;
  /** MADV_HUGEPAGE on the source. */
  thp: boolean;
  neighbour: 'none' | 'merge-partner' | 'preamble' | 'selftest-preamble';
  neighbourAddr: number;
  neighbourLen: number;
  /** A forked child holds the source's anon_vma during the call. */
  forkHolder: boolean;
  /** Check the pattern after the call (outside the clock). */
  verify: boolean;
  /** Before each timed sample, what mremap_test.c does before its first timed case. */
  firstShot: boolean;
  warmup: number;
  samples: number;
  /** CPU to pin the sampler to, or -1. */
  cpu: number;
  /** 'isolated': all samples in a forked single-threaded child; 'observe': one untimed call here. */
  mode: 'in-process' | 'isolated' | 'observe';
  /** Seeds the pattern words. */
  seed: number;
}

/** timing.cc: how one benchCase call ended. */
export interface NativeBenchCaseResult {
  /** Samples written to `out` (warm-up samples excluded). */
  done: number;
  /** SIGINT arrived before all samples were taken. */
  interrupted: boolean;
  /**
   * Where a sample failed: 'none' when none did; 'crash': the sampler died (errno = signal);
   * 'pin': sched_setaffinity refused the CPU (nothing was sampled).
   */
  stage: 'none' | 'setup' | 'mremap' | 'verify' | 'crash' | 'pin';
  errno: number;
  /** For stage 'verify': byte offset of the first page whose pattern word differed. */
  badOffset: number;
  /** The address the last mremap returned. */
  result: bigint;
}

/** procfs.cc: one PROCMAP_QUERY answer. */
export interface NativeProcmapEntry {
  start: bigint;
  end: bigint;
  flags: number;
  pageSize: bigint;
  offset: bigint;
  inode: bigint;
  devMajor: number;
  devMinor: number;
  name: string;
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
