// Raw syscalls through syscall(2): glibc's mremap() wrapper rejects flag bits above 7 with
// EINVAL without entering the kernel (sysdeps/unix/sysv/linux/mremap.c), so every mm call
// here bypasses libc. Each returns { ok, value } or { ok: false, errno }; none throws for a
// kernel error. Confinement to arenas is enforced in TypeScript (src/kernel/arena.ts).
#include <fcntl.h>
#include <sched.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common.h"
#include "uapi_compat.h"

namespace mrl {
namespace {

Napi::Value Mmap(const Napi::CallbackInfo& info) {
  // Every argument is an unsigned long in the syscall ABI (fd too: -1 arrives as 2^64-1).
  long r = syscall(SYS_mmap, U64(info, 0), U64(info, 1), U64(info, 2), U64(info, 3), U64(info, 4),
                   U64(info, 5));
  int e = errno;
  return FromSyscall(info.Env(), r, e, true);
}

Napi::Value Munmap(const Napi::CallbackInfo& info) {
  long r = syscall(SYS_munmap, U64(info, 0), U64(info, 1));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value Mremap(const Napi::CallbackInfo& info) {
  // All five arguments as the user gave them; flags as a full unsigned long.
  long r =
      syscall(SYS_mremap, U64(info, 0), U64(info, 1), U64(info, 2), U64(info, 3), U64(info, 4));
  int e = errno;
  return FromSyscall(info.Env(), r, e, true);
}

Napi::Value Mprotect(const Napi::CallbackInfo& info) {
  long r = syscall(SYS_mprotect, U64(info, 0), U64(info, 1), U64(info, 2));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value Madvise(const Napi::CallbackInfo& info) {
  long r = syscall(SYS_madvise, U64(info, 0), U64(info, 1), U64(info, 2));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value Mlock2(const Napi::CallbackInfo& info) {
  long r = syscall(__NR_mlock2, U64(info, 0), U64(info, 1), U64(info, 2));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value Munlock(const Napi::CallbackInfo& info) {
  long r = syscall(SYS_munlock, U64(info, 0), U64(info, 1));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value Mseal(const Napi::CallbackInfo& info) {
  // mseal(2), v6.10; ENOSYS on older kernels is a result like any other.
  long r = syscall(__NR_mseal, U64(info, 0), U64(info, 1), U64(info, 2));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  long r = syscall(__NR_memfd_create, name.c_str(), I64(info, 1));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  long r = syscall(SYS_ftruncate, I64(info, 0), U64(info, 1));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  long r = syscall(SYS_close, I64(info, 0));
  int e = errno;
  return FromSyscall(info.Env(), r, e, false);
}

Napi::Value UffdOpen(const Napi::CallbackInfo& info) {
  // UFFD_USER_MODE_ONLY lets unprivileged users in when vm.unprivileged_userfaultfd=0;
  // kernelFaults (argument 1) asks for a userfaultfd without it.
  bool kernel_faults = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>();
  long fd = -1;
  errno = EINVAL;
  if (!kernel_faults) fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
  if (fd == -1 && errno == EINVAL) fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (fd == -1) return Errno(info.Env(), errno);
  uffdio_api api{};
  api.api = UFFD_API;
  const uint64_t want = U64(info, 0);
  api.features = want;
  if (ioctl(static_cast<int>(fd), UFFDIO_API, &api) == -1) {
    int e = errno;
    close(static_cast<int>(fd));
    return Errno(info.Env(), e);
  }
  constexpr uint64_t kEvents = UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP |
                               UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP;
  // Close with uffdClose: it stops the reader first.
  if ((want & kEvents) != 0 && !StartUffdEventReader(static_cast<int>(fd))) {
    int e = errno;
    close(static_cast<int>(fd));
    return Errno(info.Env(), e);
  }
  return OkNum(info.Env(), static_cast<double>(fd));
}

Napi::Value UffdRegister(const Napi::CallbackInfo& info) {
  uffdio_register reg{};
  reg.range.start = U64(info, 1);
  reg.range.len = U64(info, 2);
  reg.mode = U64(info, 3);
  if (ioctl(static_cast<int>(I64(info, 0)), UFFDIO_REGISTER, &reg) == -1) {
    return Errno(info.Env(), errno);
  }
  return OkBig(info.Env(), reg.ioctls);
}

Napi::Value UffdUnregister(const Napi::CallbackInfo& info) {
  uffdio_range range{};
  range.start = U64(info, 1);
  range.len = U64(info, 2);
  if (ioctl(static_cast<int>(I64(info, 0)), UFFDIO_UNREGISTER, &range) == -1) {
    return Errno(info.Env(), errno);
  }
  return OkNum(info.Env(), 0);
}

Napi::Value UnameRelease(const Napi::CallbackInfo& info) {
  utsname u{};
  uname(&u);
  return Napi::String::New(info.Env(), u.release);
}

Napi::Value Getpid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(getpid()));
}

// Pins the calling thread (only it: sched_setaffinity with pid 0 names the thread) to the
// n-th CPU it may run on, counted modulo how many there are; returns that CPU. A scenario's
// calls then all run on one CPU, where the kernel's per-CPU folio batches (mm/swap.c) are
// drained by the calls that drain the local CPU's (lru_add_drain).
Napi::Value PinThread(const Napi::CallbackInfo& info) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == -1) return Errno(info.Env(), errno);
  int count = CPU_COUNT(&allowed);
  if (count == 0) return Errno(info.Env(), EINVAL);
  int64_t n = I64(info, 0) % count;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed) || n-- > 0) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) == -1) return Errno(info.Env(), errno);
    return OkNum(info.Env(), cpu);
  }
  return Errno(info.Env(), EINVAL);
}

// Feature probes for the procfs ioctls: one harmless query each, on this process.
Napi::Value ProbeProcmapQuery(const Napi::CallbackInfo& info) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd == -1) return Errno(info.Env(), errno);
  procmap_query q{};
  q.size = sizeof q;
  q.query_flags = kProcmapCoveringOrNextVma;
  q.query_addr = 0;
  int r = ioctl(fd, kProcmapQuery, &q);
  int e = errno;
  close(fd);
  return r == -1 ? Errno(info.Env(), e) : OkNum(info.Env(), 0);
}

Napi::Value ProbePagemapScan(const Napi::CallbackInfo& info) {
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd == -1) return Errno(info.Env(), errno);
  static char page[4096] __attribute__((aligned(4096)));
  page_region vec[1];
  pm_scan_arg a{};
  a.size = sizeof a;
  a.start = reinterpret_cast<uint64_t>(page);
  a.end = a.start + sizeof page;
  a.vec = reinterpret_cast<uint64_t>(vec);
  a.vec_len = 1;
  a.category_anyof_mask = ~0ull & 0xff;
  a.return_mask = 0xff;
  long r = ioctl(fd, kPagemapScan, &a);
  int e = errno;
  close(fd);
  return r == -1 ? Errno(info.Env(), e) : OkNum(info.Env(), static_cast<double>(r));
}

Napi::Value Constants(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("pageSize", static_cast<double>(sysconf(_SC_PAGESIZE)));
  o.Set("MREMAP_MAYMOVE", MREMAP_MAYMOVE);
  o.Set("MREMAP_FIXED", MREMAP_FIXED);
  o.Set("MREMAP_DONTUNMAP", MREMAP_DONTUNMAP);
  o.Set("MREMAP_RELOCATE_ANON", MREMAP_RELOCATE_ANON);
  o.Set("MREMAP_MUST_RELOCATE_ANON", MREMAP_MUST_RELOCATE_ANON);
  o.Set("MAP_FIXED_NOREPLACE", MAP_FIXED_NOREPLACE);
  o.Set("PROCMAP_QUERY", static_cast<double>(kProcmapQuery));
  o.Set("PAGEMAP_SCAN", static_cast<double>(kPagemapScan));
  o.Set("NR_mremap", SYS_mremap);
  o.Set("NR_mseal", __NR_mseal);
  return o;
}

}  // namespace

void InitSyscalls(Napi::Env env, Napi::Object exports) {
  exports.Set("mmap", Napi::Function::New(env, Mmap));
  exports.Set("munmap", Napi::Function::New(env, Munmap));
  exports.Set("mremap", Napi::Function::New(env, Mremap));
  exports.Set("mprotect", Napi::Function::New(env, Mprotect));
  exports.Set("madvise", Napi::Function::New(env, Madvise));
  exports.Set("mlock2", Napi::Function::New(env, Mlock2));
  exports.Set("munlock", Napi::Function::New(env, Munlock));
  exports.Set("mseal", Napi::Function::New(env, Mseal));
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate));
  exports.Set("ftruncate", Napi::Function::New(env, Ftruncate));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("uffdOpen", Napi::Function::New(env, UffdOpen));
  exports.Set("uffdRegister", Napi::Function::New(env, UffdRegister));
  exports.Set("uffdUnregister", Napi::Function::New(env, UffdUnregister));
  exports.Set("unameRelease", Napi::Function::New(env, UnameRelease));
  exports.Set("getpid", Napi::Function::New(env, Getpid));
  exports.Set("pinThread", Napi::Function::New(env, PinThread));
  exports.Set("constants", Napi::Function::New(env, Constants));
  exports.Set("probeProcmapQuery", Napi::Function::New(env, ProbeProcmapQuery));
  exports.Set("probePagemapScan", Napi::Function::New(env, ProbePagemapScan));
}

}  // namespace mrl
