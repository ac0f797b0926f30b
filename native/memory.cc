// Safe memory access: a hole or a protection violation comes back as EFAULT (a file hole past
// EOF likewise) instead of a SIGSEGV/SIGBUS that would kill Node. The same calls work on a
// forked child's memory (pid != 0), which is how steps run "inside" the child.
//  * Writes use process_vm_writev: GUP with FOLL_WRITE takes a real write fault (prepares
//    the anon_vma, breaks CoW) and honours PROT_WRITE, exactly like a CPU store.
//  * Reads use /proc/<pid>/mem, never process_vm_readv: the latter pins pages (FOLL_PIN),
//    and a read-only pin of a CoW-shared anonymous page unshares it (mm/internal.h
//    gup_must_unshare(), 5.19+), so reading would change the frames we observe. mem's
//    FOLL_GET reads do not. A CPU-like read *fault* is MADV_POPULATE_READ, issued by the
//    caller in the target process before peeking.
#include <fcntl.h>
#include <sys/uio.h>

#include <cstdio>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "common.h"

namespace mrl {
namespace {

pid_t Target(const Napi::CallbackInfo& info, size_t i) {
  int64_t pid = I64(info, i);
  return pid == 0 ? getpid() : static_cast<pid_t>(pid);
}

// Writes len bytes at remote address addr in pid; returns bytes done or -errno.
long Store(pid_t pid, const void* local, uint64_t addr, size_t len) {
  iovec l{const_cast<void*>(local), len};
  iovec r{reinterpret_cast<void*>(addr), len};
  ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);
  if (n < 0) return -errno;
  return n;
}

// The pattern word for byte offset `off` (8-aligned) of a fill with `seed`: cheap to compute,
// different on every word and for every seed, so a misplaced page is caught.
inline uint64_t PatternWord(uint64_t seed, uint64_t off) {
  uint64_t x = seed ^ (off * 0x9E3779B97F4A7C15ull);
  x ^= x >> 29;
  return x;
}

constexpr size_t kChunk = 1 << 20;

Napi::Value WriteTag(const Napi::CallbackInfo& info) {
  pid_t pid = Target(info, 0);
  uint64_t addr = U64(info, 1);
  uint64_t tag = U64(info, 2);
  long n = Store(pid, &tag, addr, sizeof tag);
  if (n < 0) return Errno(info.Env(), static_cast<int>(-n));
  if (n != sizeof tag) return Errno(info.Env(), EFAULT);
  return OkNum(info.Env(), 0);
}

// /proc/<pid>/mem, opened once per pid and kept (reads are pread, so one fd serves all).
int MemFd(pid_t pid) {
  static pid_t cached_pid = -1;
  static int cached_fd = -1;
  if (pid == cached_pid && cached_fd >= 0) return cached_fd;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", static_cast<int>(pid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  if (cached_fd >= 0) close(cached_fd);
  cached_pid = pid;
  cached_fd = fd;
  return fd;
}

long Peek(pid_t pid, void* dst, uint64_t addr, size_t len) {
  int fd = MemFd(pid);
  if (fd < 0) return fd;
  size_t done = 0;
  while (done < len) {
    ssize_t n =
        pread(fd, static_cast<char*>(dst) + done, len - done, static_cast<off_t>(addr + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -(errno == EIO ? EFAULT : errno);
    if (n == 0) return -EFAULT;
    done += static_cast<size_t>(n);
  }
  return static_cast<long>(done);
}

// peekTag(pid, addr): the 8 bytes at addr, without faulting anything in that a CPU read
// would not (mem reads see through PROT_NONE, by design of FOLL_FORCE).
Napi::Value PeekTag(const Napi::CallbackInfo& info) {
  pid_t pid = Target(info, 0);
  uint64_t addr = U64(info, 1);
  uint64_t tag = 0;
  long n = Peek(pid, &tag, addr, sizeof tag);
  if (n < 0) return Errno(info.Env(), static_cast<int>(-n));
  return OkBig(info.Env(), tag);
}

// fillPattern(pid, addr, len, seed) / verifyPattern(pid, addr, len, seed): the loops that
// must not cross into JS. Chunks of 1 MiB keep the staging buffer small.
Napi::Value FillPattern(const Napi::CallbackInfo& info) {
  pid_t pid = Target(info, 0);
  uint64_t addr = U64(info, 1), len = U64(info, 2), seed = U64(info, 3);
  std::vector<uint64_t> buf(kChunk / 8);
  for (uint64_t off = 0; off < len; off += kChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, len - off));
    for (size_t w = 0; w < (n + 7) / 8; w++) buf[w] = PatternWord(seed, off + w * 8);
    long r = Store(pid, buf.data(), addr + off, n);
    if (r < 0) return Errno(info.Env(), static_cast<int>(-r));
    if (static_cast<size_t>(r) != n) return Errno(info.Env(), EFAULT);
  }
  return OkBig(info.Env(), len);
}

Napi::Value VerifyPattern(const Napi::CallbackInfo& info) {
  pid_t pid = Target(info, 0);
  uint64_t addr = U64(info, 1), len = U64(info, 2), seed = U64(info, 3);
  std::vector<uint64_t> buf(kChunk / 8);
  for (uint64_t off = 0; off < len; off += kChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, len - off));
    long r = Peek(pid, buf.data(), addr + off, n);
    if (r < 0) return Errno(info.Env(), static_cast<int>(-r));
    if (static_cast<size_t>(r) != n) return Errno(info.Env(), EFAULT);
    const uint8_t* got = reinterpret_cast<const uint8_t*>(buf.data());
    for (size_t w = 0; w < n / 8; w++) {
      if (buf[w] != PatternWord(seed, off + w * 8)) return OkBig(info.Env(), off + w * 8);
    }
    // A tail shorter than a word compares byte by byte.
    for (size_t b = n & ~size_t{7}; b < n; b++) {
      uint64_t word = PatternWord(seed, off + (b & ~size_t{7}));
      if (got[b] != static_cast<uint8_t>(word >> (8 * (b & 7)))) return OkBig(info.Env(), off + b);
    }
  }
  return OkBig(info.Env(), ~uint64_t{0});
}

}  // namespace

void InitMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("writeTag", Napi::Function::New(env, WriteTag));
  exports.Set("peekTag", Napi::Function::New(env, PeekTag));
  exports.Set("fillPattern", Napi::Function::New(env, FillPattern));
  exports.Set("verifyPattern", Napi::Function::New(env, VerifyPattern));
}

}  // namespace mrl
