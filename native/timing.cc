// Benchmark loops that must not cross into JS: the clock brackets only syscalls, read with
// clock_gettime(CLOCK_MONOTONIC) in C++ (tools/testing/selftests/mm/mremap_test.c does the
// same around its single mremap call).
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

namespace mrl {
namespace {

inline uint64_t NowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}

Napi::Value BenchMremapPingPong(const Napi::CallbackInfo& info) {
  uint64_t a = U64(info, 0), b = U64(info, 1), len = U64(info, 2);
  int64_t iters = I64(info, 3);
  const long flags = MREMAP_MAYMOVE | MREMAP_FIXED;
  uint64_t t0 = NowNs();
  for (int64_t i = 0; i < iters; i++) {
    if (syscall(SYS_mremap, a, len, len, flags, b) == -1) return Errno(info.Env(), errno);
    if (syscall(SYS_mremap, b, len, len, flags, a) == -1) return Errno(info.Env(), errno);
  }
  return OkNum(info.Env(), static_cast<double>(NowNs() - t0));
}

Napi::Value BenchMremapNoop(const Napi::CallbackInfo& info) {
  uint64_t a = U64(info, 0), len = U64(info, 1);
  int64_t iters = I64(info, 2);
  uint64_t t0 = NowNs();
  for (int64_t i = 0; i < iters; i++) {
    if (syscall(SYS_mremap, a, len, len, 0, 0) == -1) return Errno(info.Env(), errno);
  }
  return OkNum(info.Env(), static_cast<double>(NowNs() - t0));
}

// The same loop in a forked, single-threaded child. Node runs several threads (V8 platform
// workers, libuv); a page-table move in a multi-threaded mm must flush TLBs on every CPU the
// mm was recently active on, so timing in the child measures what a plain single-threaded C
// program (and mremap_test.c) measures. Only async-signal-safe calls run in the child.
Napi::Value BenchMremapPingPongIsolated(const Napi::CallbackInfo& info) {
  uint64_t a = U64(info, 0), b = U64(info, 1), len = U64(info, 2);
  int64_t iters = I64(info, 3);
  int cpu = info.Length() > 4 ? static_cast<int>(I64(info, 4)) : -1;
  int fds[2];
  if (pipe(fds) == -1) return Errno(info.Env(), errno);
  pid_t pid = fork();
  if (pid == -1) return Errno(info.Env(), errno);
  if (pid == 0) {
    close(fds[0]);
    const long flags = MREMAP_MAYMOVE | MREMAP_FIXED;
    int64_t out = 0;
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      sched_setaffinity(0, sizeof set, &set);
    }
    // After fork the range belongs to a fork child (its anon_vma chain also links the
    // parent's anon_vma), which makes every copy_vma() dearer. Replace it with a fresh
    // private mapping, faulted here, so the child times what a fresh process would.
    syscall(SYS_munmap, b, len);
    if (syscall(SYS_mmap, a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == -1) {
      out = -errno;
    } else {
      for (uint64_t off = 0; off < len; off += 4096) *reinterpret_cast<volatile char*>(a + off) = 1;
    }
    uint64_t t0 = NowNs();
    for (int64_t i = 0; i < iters && out == 0; i++) {
      if (syscall(SYS_mremap, a, len, len, flags, b) == -1) out = -errno;
      else if (syscall(SYS_mremap, b, len, len, flags, a) == -1) out = -errno;
    }
    if (out == 0) out = static_cast<int64_t>(NowNs() - t0);
    (void)!write(fds[1], &out, sizeof out);
    _exit(0);
  }
  close(fds[1]);
  int64_t out = -EIO;
  (void)!read(fds[0], &out, sizeof out);
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
  }
  if (out < 0) return Errno(info.Env(), static_cast<int>(-out));
  return OkNum(info.Env(), static_cast<double>(out));
}

}  // namespace

void InitTiming(Napi::Env env, Napi::Object exports) {
  exports.Set("benchMremapPingPong", Napi::Function::New(env, BenchMremapPingPong));
  exports.Set("benchMremapPingPongIsolated", Napi::Function::New(env, BenchMremapPingPongIsolated));
  exports.Set("benchMremapNoop", Napi::Function::New(env, BenchMremapNoop));
}

}  // namespace mrl
