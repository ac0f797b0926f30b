/**
 * Raw mm syscalls with symbolic errno names attached. No confinement here: this is the
 * `unsafe` layer (exported as `unsafe` from the package) for experts who know what they map;
 * everything else goes through Arena/KernelSpace, which check ranges first.
 */
import { native, type RawResult } from '../native.js';
import { err, ok, type Result } from '../space/result.js';

function wrap<T>(r: RawResult<T>): Result<T> {
  return r.ok ? ok(r.value) : err(r.errno);
}

const MADV_POPULATE_READ = 22;
const PAGE_MASK = ~4095n;

/**
 * A CPU-like read of the 8 bytes at addr in pid (0 = self): MADV_POPULATE_READ takes the
 * read fault a load would (zero page for fresh anonymous memory, EFAULT where a load would
 * SIGSEGV/SIGBUS), then the bytes are peeked without pinning.
 */
function readTag(pid: number, addr: bigint): Result<bigint> {
  const page = addr & PAGE_MASK;
  const f = pid
    ? wrap(native.childSyscall(pid, 28, page, 4096n, BigInt(MADV_POPULATE_READ)))
    : wrap(native.madvise(page, 4096n, BigInt(MADV_POPULATE_READ)));
  // ENOMEM: no VMA there. EINVAL: the VMA does not allow the access (__get_user_pages turns
  // a check_vma_flags() failure into EINVAL under FOLL_MADV_POPULATE). For a CPU load both
  // are a SIGSEGV, which we report as EFAULT.
  if (!f.ok) return err(f.code === 'ENOMEM' || f.code === 'EINVAL' ? 14 : f.errno);
  return wrap(native.peekTag(pid, addr));
}

/** Word-sized flags may be given as a number; BigInt() refuses a fraction, -1 wraps as in C. */
const ul = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));

export const sys = {
  mmap: (
    addr: bigint,
    len: bigint,
    prot: number | bigint,
    flags: number | bigint,
    fd: number | bigint = -1,
    off = 0n,
  ) => wrap(native.mmap(addr, len, ul(prot), ul(flags), ul(fd), off)),
  munmap: (addr: bigint, len: bigint) => wrap(native.munmap(addr, len)),
  mremap: (addr: bigint, oldLen: bigint, newLen: bigint, flags: bigint, newAddr: bigint) =>
    wrap(native.mremap(addr, oldLen, newLen, flags, newAddr)),
  mprotect: (addr: bigint, len: bigint, prot: number | bigint) =>
    wrap(native.mprotect(addr, len, ul(prot))),
  madvise: (addr: bigint, len: bigint, advice: number | bigint) =>
    wrap(native.madvise(addr, len, ul(advice))),
  mlock2: (addr: bigint, len: bigint, flags: number | bigint) =>
    wrap(native.mlock2(addr, len, ul(flags))),
  munlock: (addr: bigint, len: bigint) => wrap(native.munlock(addr, len)),
  mseal: (addr: bigint, len: bigint, flags = 0n) => wrap(native.mseal(addr, len, flags)),
  memfdCreate: (name: string, flags = 0) => wrap(native.memfdCreate(name, flags)),
  ftruncate: (fd: number, len: bigint) => wrap(native.ftruncate(fd, len)),
  close: (fd: number) => wrap(native.close(fd)),
  writeTag: (pid: number, addr: bigint, tag: bigint) => wrap(native.writeTag(pid, addr, tag)),
  peekTag: (pid: number, addr: bigint) => wrap(native.peekTag(pid, addr)),
  readTag,
  fillPattern: (pid: number, addr: bigint, len: bigint, seed: bigint) =>
    wrap(native.fillPattern(pid, addr, len, seed)),
  verifyPattern: (pid: number, addr: bigint, len: bigint, seed: bigint) =>
    wrap(native.verifyPattern(pid, addr, len, seed)),
  forkIdle: () => wrap(native.forkIdle()),
  childSyscall: (pid: number, nr: number, ...args: bigint[]) =>
    wrap(native.childSyscall(pid, nr, ...args)),
  releaseChild: (pid: number) => wrap(native.releaseChild(pid)),
  killChild: (pid: number) => wrap(native.killChild(pid)),
  loadProbe: (pid: number, addr: bigint) => wrap(native.loadProbe(pid, addr)),
};

/** x86-64 syscall numbers for steps run inside a forked child (arch/x86/entry/syscalls). */
export const NR = {
  close: 3,
  mmap: 9,
  mprotect: 10,
  munmap: 11,
  mremap: 25,
  madvise: 28,
  ftruncate: 77,
  munlock: 150,
  mlock2: 325,
  mseal: 462,
} as const;
