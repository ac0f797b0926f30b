// Safe memory access. Every read and write goes through process_vm_readv/writev, which walk
// the target's page tables with GUP: a hole or a protection violation comes back as EFAULT
// (a file hole past EOF likewise) instead of a SIGSEGV/SIGBUS that would kill Node. GUP also
// takes real faults, so a write here is a write fault for the kernel (it prepares the
// anon_vma, breaks CoW) and a read of a fresh page maps the zero page, exactly like a CPU
// access. The same calls work on a forked child's memory (pid != 0), which is how steps run
// "inside" the child without the child touching memory itself.
#include <sys/uio.h>
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

// Reads or writes len bytes at remote address addr in pid; returns bytes done or -errno.
long Transfer(pid_t pid, void* local, uint64_t addr, size_t len, bool write) {
  iovec l{local, len};
  iovec r{reinterpret_cast<void*>(addr), len};
  ssize_t n = write ? process_vm_writev(pid, &l, 1, &r, 1, 0) : process_vm_readv(pid, &l, 1, &r, 1, 0);
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
  long n = Transfer(pid, &tag, addr, sizeof tag, true);
  if (n < 0) return Errno(info.Env(), static_cast<int>(-n));
  if (n != sizeof tag) return Errno(info.Env(), EFAULT);
  return OkNum(info.Env(), 0);
}

Napi::Value ReadTag(const Napi::CallbackInfo& info) {
  pid_t pid = Target(info, 0);
  uint64_t addr = U64(info, 1);
  uint64_t tag = 0;
  long n = Transfer(pid, &tag, addr, sizeof tag, false);
  if (n < 0) return Errno(info.Env(), static_cast<int>(-n));
  if (n != sizeof tag) return Errno(info.Env(), EFAULT);
  return OkBig(info.Env(), tag);
}

// readTags(pid, addr, count, stride, out: BigUint64Array, ok: Uint8Array) -> number read.
// One process_vm_readv for the whole batch; after a short read, resume past the failing page,
// so each page's success is known without one syscall per page in the common case.
Napi::Value ReadTags(const Napi::CallbackInfo& info) {
  pid_t pid = Target(info, 0);
  uint64_t addr = U64(info, 1);
  size_t count = static_cast<size_t>(I64(info, 2));
  uint64_t stride = U64(info, 3);
  auto out = info[4].As<Napi::BigUint64Array>();
  auto okv = info[5].As<Napi::Uint8Array>();
  if (out.ElementLength() < count || okv.ElementLength() < count) {
    throw Napi::RangeError::New(info.Env(), "readTags: output arrays shorter than count");
  }
  uint64_t* dst = out.Data();
  uint8_t* okp = okv.Data();
  std::fill(okp, okp + count, 0);
  constexpr size_t kIov = 1024;  // IOV_MAX
  std::vector<iovec> local(kIov), remote(kIov);
  size_t good = 0;
  size_t i = 0;
  while (i < count) {
    size_t batch = std::min(kIov, count - i);
    for (size_t k = 0; k < batch; k++) {
      local[k] = {&dst[i + k], 8};
      remote[k] = {reinterpret_cast<void*>(addr + (i + k) * stride), 8};
    }
    ssize_t n = process_vm_readv(pid, local.data(), batch, remote.data(), batch, 0);
    size_t done = n > 0 ? static_cast<size_t>(n) / 8 : 0;
    for (size_t k = 0; k < done; k++) okp[i + k] = 1;
    good += done;
    if (done < batch) {
      dst[i + done] = 0;
      i += done + 1;  // skip the page that failed
    } else {
      i += batch;
    }
  }
  return Napi::Number::New(info.Env(), static_cast<double>(good));
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
    long r = Transfer(pid, buf.data(), addr + off, n, true);
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
    long r = Transfer(pid, buf.data(), addr + off, n, false);
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
  exports.Set("readTag", Napi::Function::New(env, ReadTag));
  exports.Set("readTags", Napi::Function::New(env, ReadTags));
  exports.Set("fillPattern", Napi::Function::New(env, FillPattern));
  exports.Set("verifyPattern", Napi::Function::New(env, VerifyPattern));
}

}  // namespace mrl
