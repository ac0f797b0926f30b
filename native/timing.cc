// Benchmark loops that must not cross into JS: the clock brackets only syscalls, read with
// clock_gettime(CLOCK_MONOTONIC) in C++ (tools/testing/selftests/mm/mremap_test.c does the
// same around its single mremap call).
#include <sys/mman.h>
#include <sys/syscall.h>
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

}  // namespace

void InitTiming(Napi::Env env, Napi::Object exports) {
  exports.Set("benchMremapPingPong", Napi::Function::New(env, BenchMremapPingPong));
  exports.Set("benchMremapNoop", Napi::Function::New(env, BenchMremapNoop));
}

}  // namespace mrl
