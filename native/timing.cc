// Benchmark loops that must not cross into JS: the clock brackets only syscalls, read with
// clock_gettime(CLOCK_MONOTONIC) in C++ (tools/testing/selftests/mm/mremap_test.c does the
// same around its single mremap call).
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "holes.h"
#include "uapi_compat.h"

namespace mrl {
namespace {

inline uint64_t NowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}

// The sampler's own CPU time (sum_exec_runtime, read through the syscall: not in the vDSO).
// Read outside the CLOCK_MONOTONIC bracket, so its cost never enters a sample; a sample whose
// wall time exceeds it was not running for part of the call: preempted by another task, or
// the vCPU stopped by the host where steal time is accounted (the scheduler's clock_task
// leaves steal out with CONFIG_PARAVIRT_TIME_ACCOUNTING).
inline uint64_t ThreadCpuNs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}

// 0 or the errno of sched_setaffinity: a pin that did not happen must not be recorded as
// one (EINVAL for a CPU outside the allowed set, which CPU_SET alone cannot tell).
int PinTo(int cpu) {
  if (cpu < 0) return 0;
  if (cpu >= CPU_SETSIZE) return EINVAL;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
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
    if (int err = PinTo(cpu)) {
      out = -err;
      (void)!write(fds[1], &out, sizeof out);
      _exit(0);
    }
    // After fork the range belongs to a fork child (its anon_vma chain also links the
    // parent's anon_vma), which makes every copy_vma() dearer. Replace it with a fresh
    // private mapping, faulted here, so the child times what a fresh process would.
    syscall(SYS_munmap, b, len);
    if (syscall(SYS_mmap, a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                -1, 0) == -1) {
      out = -errno;
    } else {
      for (uint64_t off = 0; off < len; off += 4096) *reinterpret_cast<volatile char*>(a + off) = 1;
    }
    uint64_t t0 = NowNs();
    for (int64_t i = 0; i < iters && out == 0; i++) {
      if (syscall(SYS_mremap, a, len, len, flags, b) == -1)
        out = -errno;
      else if (syscall(SYS_mremap, b, len, len, flags, a) == -1)
        out = -errno;
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

// ── Per-case sampling for `mremap-lab bench` (src/bench/) ─────────────────────────────────
// Each sample sets its layout up from scratch outside the clock (map, madvise, populate, write
// the pattern, place the neighbour, fork the anon_vma holder), brackets exactly one mremap
// with CLOCK_MONOTONIC, verifies, and tears down. The parameters come as one object whose
// properties are read by name (src/native.ts NativeBenchParams; addresses < 2^53 are exact
// as numbers); the layout is computed in TypeScript (src/bench/layout.ts).
enum Op { kOpMove = 0, kOpResize = 1, kOpEmpty = 2 };
enum Kind { kPrivateAnon = 0, kSharedAnon = 1, kMemfd = 2 };
enum Neighbour { kNbNone = 0, kNbMergePartner = 1, kNbPreamble = 2, kNbSharedPreamble = 3 };
enum Mode { kInProcess = 0, kIsolated = 1, kObserve = 2 };
// The names TypeScript passes, in enum order.
const char* const kOpNames[] = {"move", "resize", "empty"};
const char* const kKindNames[] = {"private-anon", "shared-anon", "memfd"};
const char* const kNbNames[] = {"none", "merge-partner", "preamble", "selftest-preamble"};
const char* const kModeNames[] = {"in-process", "isolated", "observe"};

struct BenchParams {
  uint64_t regionLo, regionHi, src, dst, oldLen, newLen;
  int op;
  long flags;
  int kind;
  uint64_t populatePermille;
  bool thp;
  int neighbour;
  uint64_t neighbourAddr, neighbourLen;
  bool forkHolder, verify;
  bool firstShot;
  int64_t warmup, samples;
  int cpu;
  int mode;
  uint64_t seed;
};

const char* TypeName(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_object: return "an object";
    case napi_function: return "a function";
    case napi_external: return "an external";
    case napi_bigint: return "a bigint";
  }
  return "unknown";
}

// Reads benchCase's params by name: a missing, mistyped or out-of-range property is a
// programmer error on the TypeScript side and throws a TypeError that names it.
class ParamReader {
 public:
  ParamReader(Napi::Env env, Napi::Object o) : env_(env), o_(o) {}

  uint64_t Unsigned(const char* name) {
    return static_cast<uint64_t>(Integer(name, 0, "must be an integer in [0, 2^53]"));
  }

  int64_t Signed(const char* name) {
    return static_cast<int64_t>(Integer(name, -kMaxExact, "must be an integer"));
  }

  bool Bool(const char* name) {
    Napi::Value v = Get(name);
    if (!v.IsBoolean()) Throw(name, std::string("must be a boolean, got ") + TypeName(v));
    return v.As<Napi::Boolean>().Value();
  }

  template <size_t N>
  int Choice(const char* name, const char* const (&names)[N]) {
    Napi::Value v = Get(name);
    std::string want = "must be one of";
    for (size_t i = 0; i < N; i++) want += std::string(i ? ", " : " ") + "'" + names[i] + "'";
    if (!v.IsString()) Throw(name, want + ", got " + TypeName(v));
    const std::string got = v.As<Napi::String>().Utf8Value();
    for (size_t i = 0; i < N; i++)
      if (got == names[i]) return static_cast<int>(i);
    Throw(name, want + ", got '" + got + "'");
    return -1;
  }

  // Every property must be one that was read: a misspelt optional one would pass silently.
  void RejectUnknown() {
    Napi::Array keys = o_.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      const std::string k = keys.Get(i).ToString().Utf8Value();
      bool known = false;
      for (const std::string& r : read_) known = known || r == k;
      if (!known) Throw(k.c_str(), "is not a benchCase parameter");
    }
  }

 private:
  Napi::Value Get(const char* name) {
    read_.emplace_back(name);
    if (!o_.Has(name)) Throw(name, "is missing");
    return o_.Get(name);
  }

  double Number(const char* name) {
    Napi::Value v = Get(name);
    if (!v.IsNumber()) Throw(name, std::string("must be a number, got ") + TypeName(v));
    return v.As<Napi::Number>().DoubleValue();
  }

  // Every integer up to 2^53 is exact in a double; past it addresses would silently round.
  static constexpr double kMaxExact = 9007199254740992.0;

  // A whole number in [lo, 2^53]; the negated range test also refuses NaN.
  double Integer(const char* name, double lo, const char* what) {
    const double d = Number(name);
    if (!(d >= lo && d <= kMaxExact) || d != std::trunc(d)) Throw(name, what);
    return d;
  }

  [[noreturn]] void Throw(const char* name, const std::string& what) {
    throw Napi::TypeError::New(env_, std::string("benchCase: params.") + name + " " + what);
  }

  Napi::Env env_;
  Napi::Object o_;
  std::vector<std::string> read_;
};

BenchParams ReadParams(Napi::Env env, Napi::Object o) {
  ParamReader r(env, o);
  BenchParams p{};
  p.regionLo = r.Unsigned("regionLo");
  p.regionHi = r.Unsigned("regionHi");
  p.src = r.Unsigned("src");
  p.dst = r.Unsigned("dst");
  p.oldLen = r.Unsigned("oldLen");
  p.newLen = r.Unsigned("newLen");
  p.op = r.Choice("op", kOpNames);
  p.flags = static_cast<long>(r.Unsigned("flags"));
  p.kind = r.Choice("kind", kKindNames);
  p.populatePermille = r.Unsigned("populatePermille");
  p.thp = r.Bool("thp");
  p.neighbour = r.Choice("neighbour", kNbNames);
  p.neighbourAddr = r.Unsigned("neighbourAddr");
  p.neighbourLen = r.Unsigned("neighbourLen");
  p.forkHolder = r.Bool("forkHolder");
  p.verify = r.Bool("verify");
  p.firstShot = r.Bool("firstShot");
  p.warmup = r.Signed("warmup");
  p.samples = r.Signed("samples");
  p.cpu = static_cast<int>(r.Signed("cpu"));
  p.mode = r.Choice("mode", kModeNames);
  p.seed = r.Unsigned("seed");
  r.RejectUnknown();
  return p;
}

enum Stage {
  kStageNone = 0,
  kStageSetup = 1,
  kStageMremap = 2,
  kStageVerify = 3,
  kStageCrash = 4,
  kStagePin = 5
};

// Lives in a MAP_SHARED page so a forked sampler and its parent see the same words.
struct Control {
  volatile sig_atomic_t stop;
  int32_t stage;
  int32_t err;
  int32_t pad;
  int64_t done;
  int64_t badOffset;
  uint64_t result;
  int64_t slots;
  // samples[0..slots): wall ns; samples[slots..2*slots): the sampler's CPU ns over the
  // bracket around the same call.
  double samples[];
};

Control* g_control = nullptr;

// Installed only for the duration of one benchCase call (then Node's own handler is put
// back), so SIGINT ends the case after the current sample instead of killing the sampler.
// The forked sampler inherits it and writes the same shared word.
void OnSigint(int) {
  if (g_control != nullptr) g_control->stop = 1;
}

inline uint64_t BenchPattern(uint64_t seed, uint64_t page) {
  uint64_t x = seed ^ ((page + 1) * 0x9E3779B97F4A7C15ull);
  x ^= x >> 31;
  return x;
}

// Pages chosen for a fraction of permille/1000, spread evenly over the range.
inline bool Selected(uint64_t i, uint64_t permille) {
  return ((i + 1) * permille) / 1000 > (i * permille) / 1000;
}

struct Sampler {
  const BenchParams& p;
  Control* c;
  char* random_ = nullptr;
  char* cold_ = nullptr;

  int Fail(int stage, int err) {
    c->stage = stage;
    c->err = err;
    return -1;
  }

  // Returns the fd of a memfd (or -1) through *fd; -1 on failure with the stage recorded.
  int Setup(int* fd, pid_t* holder) {
    const uint64_t src = p.src, oldLen = p.oldLen, newLen = p.newLen;
    const uint64_t span = oldLen > newLen ? oldLen : newLen;
    const int kind = p.kind;
    const int nb = p.neighbour;
    // A merge partner must be mergeable with the moved VMA: same anon_vma or file and a
    // vm_pgoff that continues it (mm/vma.c:can_vma_merge_after). So it is cut from the
    // source mapping itself: one page mapped just below src, moved to just below dst first.
    const uint64_t lead = nb == kNbMergePartner ? 4096 : 0;
    int flags = MAP_FIXED | (kind == kPrivateAnon ? MAP_PRIVATE : MAP_SHARED);
    *fd = -1;
    if (kind == kMemfd) {
      long f = syscall(SYS_memfd_create, "mrl-bench", MFD_CLOEXEC);
      if (f == -1) return Fail(kStageSetup, errno);
      *fd = static_cast<int>(f);
      if (ftruncate(*fd, static_cast<off_t>(span + lead)) == -1) return Fail(kStageSetup, errno);
    } else {
      flags |= MAP_ANONYMOUS;
    }
    if (syscall(SYS_mmap, src - lead, oldLen + lead, PROT_READ | PROT_WRITE, flags, *fd, 0) == -1)
      return Fail(kStageSetup, errno);
    // THP outcome depends on /sys/kernel/mm/transparent_hugepage/enabled=madvise; the
    // observed layout (JS side) records whether it happened.
    if (p.thp && syscall(SYS_madvise, src, oldLen, MADV_HUGEPAGE) == -1)
      return Fail(kStageSetup, errno);
    const uint64_t permille = p.populatePermille, seed = p.seed, pages = oldLen / 4096;
    if (permille >= 1000) {
      // One call instead of a fault per page: matters for the 1 GiB cases.
      (void)syscall(SYS_madvise, src, oldLen, MADV_POPULATE_WRITE);
    }
    if (permille > 0) {
      for (uint64_t i = 0; i < pages; i++) {
        if (Selected(i, permille))
          *reinterpret_cast<volatile uint64_t*>(src + i * 4096) = BenchPattern(seed, i);
      }
    }
    if (nb == kNbMergePartner) {
      *reinterpret_cast<volatile uint64_t*>(src - lead) = seed;
      if (syscall(SYS_mremap, src - lead, lead, lead, MREMAP_MAYMOVE | MREMAP_FIXED,
                  p.neighbourAddr) == -1)
        return Fail(kStageSetup, errno);
      PlaceHole(src - lead, lead, false);
    } else if (nb == kNbPreamble) {
      // Not mergeable (other protection), and it makes can_align_down() refuse realignment.
      if (syscall(SYS_mmap, p.neighbourAddr, p.neighbourLen, PROT_READ,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == -1)
        return Fail(kStageSetup, errno);
    }
    // kNbSharedPreamble is placed by PlacePreamble(), after OpenRegion().
    *holder = 0;
    if (p.forkHolder) {
      // A child that shares the anon_vma (and, for private memory, the CoW pages): the
      // source then has a forked anon_vma, which RELOCATE_ANON refuses to relocate.
      pid_t pid = fork();
      if (pid == -1) return Fail(kStageSetup, errno);
      if (pid == 0) {
        for (;;) pause();
      }
      *holder = pid;
    }
    return 0;
  }

  void Teardown(int fd, pid_t holder) {
    if (holder > 0) {
      kill(holder, SIGKILL);
      while (waitpid(holder, nullptr, 0) == -1 && errno == EINTR) {
      }
    }
    if (fd >= 0) close(fd);
  }

  int Verify(uint64_t base, uint64_t len) {
    const uint64_t permille = p.populatePermille, seed = p.seed;
    for (uint64_t i = 0; i < len / 4096; i++) {
      if (!Selected(i, permille)) continue;
      if (*reinterpret_cast<volatile uint64_t*>(base + i * 4096) != BenchPattern(seed, i)) {
        c->badOffset = static_cast<int64_t>(i * 4096);
        return Fail(kStageVerify, EIO);
      }
    }
    return 0;
  }

  // mremap_test.c remap_region()'s dest preamble, placed as the last step before the clock as
  // there: shared anonymous, read-write (its own shmem file: never merges with the move),
  // mapped into the hole (MAP_FIXED_NOREPLACE, as there) and every byte written with one
  // memcpy from a buffer of random bytes. That 40 MiB copy (plus the page faults) leaves the
  // CPU caches and TLB cold for the timed call, more than this machine's 32 MiB L3: the
  // selftest times its move in that state. Populated earlier (MADV_POPULATE_WRITE) and
  // followed by OpenRegion's munmaps, the move found a warm kernel and took half as long
  // (docs/benchmarks.md, "The preamble case").
  int PlacePreamble() {
    if (p.neighbour != kNbSharedPreamble) return 0;
    const uint64_t len = p.neighbourLen;
    long r = syscall(SYS_mmap, p.neighbourAddr, len, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == -1) return Fail(kStageSetup, errno);
    if (static_cast<uint64_t>(r) != p.neighbourAddr) {
      syscall(SYS_munmap, r, len);
      return Fail(kStageSetup, EEXIST);
    }
    std::memcpy(reinterpret_cast<void*>(p.neighbourAddr), random_, len);
    return 0;
  }

  // The sampler's own buffers go where the kernel chooses, so they are mapped only while the
  // case's region is covered (right after ClearRegion()): never into its holes.
  int MapBuffers(bool timed) {
    if (p.neighbour == kNbSharedPreamble && !random_) {
      // The preamble's source of random bytes, once per sampler (the selftest's rand_addr).
      random_ = MapAnon(p.neighbourLen);
      if (!random_) return Fail(kStageSetup, errno);
      uint64_t x = p.seed | 1;
      for (uint64_t i = 0; i < p.neighbourLen / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        reinterpret_cast<uint64_t*>(random_)[i] = x;
      }
    }
    if (timed && p.firstShot) {
      cold_ = MapAnon(kSelftestRandBytes);
      if (!cold_) return Fail(kStageSetup, errno);
      FirstShotHistory();
    }
    return 0;
  }

  static char* MapAnon(uint64_t len) {
    long r = syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return r == -1 ? nullptr : reinterpret_cast<char*>(r);
  }

  // mremap_test.c main(): rand_size is at least dest_preamble_size (10 * _4MB).
  static constexpr uint64_t kSelftestRandBytes = 40ull << 20;

  // firstShot: what mremap_test.c does in its process before its first timed case (the 8 KiB
  // move), so that move's cold start is timed as there. main() writes its random buffer
  // (rand_size bytes, at least 40 MiB: more than this machine's L3), then runs
  // test_cases[0..2], which fail: their mmaps, 4 KiB copies, munmaps and refused mremaps
  // warm the mmap/munmap paths and mremap's entry again, but never a move. The fill alone
  // made the 8 KiB move 1.5x the selftest's shot; with these calls it agrees
  // (docs/benchmarks.md, "The 8 KiB case"). The buffer stays mapped until the sample
  // ends, as rand_addr does (unmapping it here would warm the unmap path the move runs).
  // The calls use the source's page, which Setup() maps anew; the selftest's pages sit
  // just above mmap_min_addr, outside any arena. Runs only in the forked sampler.
  void FirstShotHistory() {
    for (uint64_t i = 0; i < kSelftestRandBytes / 8; i++)
      reinterpret_cast<volatile uint64_t*>(cold_)[i] = i * 0x9E3779B97F4A7C15ull;
    const uint64_t a = p.src, page = 4096;
    const int shared = MAP_SHARED | MAP_ANONYMOUS;
    const long fixed = MREMAP_MAYMOVE | MREMAP_FIXED;
    // test_cases[0], source and destination overlapping: the probe (EEXIST), then EINVAL.
    if (syscall(SYS_mmap, a, page, PROT_READ | PROT_WRITE, shared | MAP_FIXED, -1, 0) != -1) {
      std::memcpy(reinterpret_cast<void*>(a), cold_, page);
      syscall(SYS_mmap, a, page, PROT_READ | PROT_WRITE, shared | MAP_FIXED_NOREPLACE, -1, 0);
      syscall(SYS_mremap, a, page, page, fixed, a);
      syscall(SYS_munmap, a, page);
    }
    // test_cases[1], destination 1 KiB aligned: the probe mmap and the mremap, EINVAL.
    if (syscall(SYS_mmap, a, page, PROT_READ | PROT_WRITE, shared | MAP_FIXED, -1, 0) != -1) {
      std::memcpy(reinterpret_cast<void*>(a), cold_, page);
      const uint64_t d = ((a + page + 1024) & ~1023ull) | 1024;
      syscall(SYS_mmap, d, page, PROT_READ | PROT_WRITE, shared | MAP_FIXED_NOREPLACE, -1, 0);
      syscall(SYS_mremap, a, page, page, fixed, d);
      syscall(SYS_munmap, a, page);
    }
    // test_cases[2], source 1 KiB aligned: get_source_mapping()'s mmap, EINVAL.
    syscall(SYS_mmap, a + 1024, page, PROT_READ | PROT_WRITE, shared | MAP_FIXED_NOREPLACE, -1, 0);
  }

  void DropCold() {
    if (cold_) syscall(SYS_munmap, cold_, kSelftestRandBytes);
    cold_ = nullptr;
  }

  void FreeBuffers() {
    DropCold();
    if (random_) syscall(SYS_munmap, random_, p.neighbourLen);
    random_ = nullptr;
  }

  // The region is the arena's (reserved by src/kernel/arena.ts): it is replaced by one
  // placeholder with MAP_FIXED, atomically, so no other thread of Node's process ever sees
  // a hole here (munmap would open one for the whole sample).
  void ClearRegion() { PlaceHole(p.regionLo, p.regionHi - p.regionLo, true); }

  // The mappings of a sample besides placeholders: the source (or what the call made of
  // it) and the neighbour. Up to three ranges.
  int Mapped(long r, long flags, uint64_t (*out)[2], bool neighbour = true) const {
    const uint64_t src = p.src, oldLen = p.oldLen, newLen = p.newLen;
    int n = 0;
    if (r == -1 || (flags & MREMAP_DONTUNMAP) != 0) {
      out[n][0] = src;
      out[n++][1] = src + oldLen;
    }
    if (r != -1) {
      out[n][0] = static_cast<uint64_t>(r);
      out[n++][1] = static_cast<uint64_t>(r) + newLen;
    }
    if (p.neighbour != kNbNone && neighbour) {
      out[n][0] = p.neighbourAddr;
      out[n++][1] = p.neighbourAddr + p.neighbourLen;
    }
    return n;
  }

  // Calls f(start, end) for each gap of the region between the given ranges.
  template <class F>
  void ForGaps(uint64_t (*m)[2], int n, F f) const {
    for (int i = 1; i < n; i++)
      for (int k = i; k > 0 && m[k][0] < m[k - 1][0]; k--) std::swap(m[k], m[k - 1]);
    uint64_t at = p.regionLo;
    const uint64_t hi = p.regionHi;
    for (int i = 0; i < n; i++) {
      if (m[i][1] <= at) continue;
      if (m[i][0] >= hi) break;
      if (m[i][0] > at) f(at, m[i][0]);
      at = m[i][1];
    }
    if (at < hi) f(at, hi);
  }

  // The timed call runs in the layout a plain C program would have: the sample's mappings
  // and holes around them (how far free_pgtables() may free, what vma_expandable() sees),
  // so the placeholders come out just before the clock starts ...
  // The selftest's preamble goes into a hole: its range is opened too.
  void OpenRegion() {
    uint64_t m[3][2];
    ForGaps(m, Mapped(-1, 0, m, p.neighbour != kNbSharedPreamble),
            [](uint64_t s, uint64_t e) { syscall(SYS_munmap, s, e - s); });
  }

  // ... and go back over every hole right after it stops. NOREPLACE never touches a
  // mapping, ours or anyone's.
  void CloseRegion(long r, long flags, bool neighbour = true) {
    uint64_t m[3][2];
    ForGaps(m, Mapped(r, flags, m, neighbour),
            [](uint64_t s, uint64_t e) { PlaceHole(s, e - s, false); });
  }

  // The whole sample loop; runs in the forked sampler or in this process.
  void Run() {
    const int64_t warmup = p.warmup, samples = p.samples;
    const int mode = p.mode;
    const int op = p.op;
    const uint64_t src = p.src, dst = p.dst, oldLen = p.oldLen, newLen = p.newLen;
    const long flags = p.flags;
    const int64_t total = mode == kObserve ? 1 : warmup + samples;
    for (int64_t i = 0; i < total; i++) {
      if (c->stop) return;
      uint64_t t0 = 0, t1 = 0, c0 = 0, c1 = 0;
      if (op == kOpEmpty) {
        c0 = ThreadCpuNs();
        t0 = NowNs();
        asm volatile("" ::: "memory");
        t1 = NowNs();
        c1 = ThreadCpuNs();
      } else {
        ClearRegion();
        if (MapBuffers(mode != kObserve) != 0) return;
        int fd = -1;
        pid_t holder = 0;
        if (Setup(&fd, &holder) != 0) {
          Teardown(fd, holder);
          return;
        }
        const uint64_t target = op == kOpMove ? dst : 0;
        OpenRegion();
        if (PlacePreamble() != 0) {
          CloseRegion(-1, 0, false);
          Teardown(fd, holder);
          return;
        }
        c0 = ThreadCpuNs();
        t0 = NowNs();
        long r = syscall(SYS_mremap, src, oldLen, newLen, flags, target);
        t1 = NowNs();
        int err = errno;
        c1 = ThreadCpuNs();
        CloseRegion(r, flags);
        if (r == -1) {
          Teardown(fd, holder);
          Fail(kStageMremap, err);
          return;
        }
        c->result = static_cast<uint64_t>(r);
        if (p.verify && Verify(static_cast<uint64_t>(r), oldLen < newLen ? oldLen : newLen) != 0) {
          Teardown(fd, holder);
          return;
        }
        Teardown(fd, holder);
        if (mode != kObserve) ClearRegion();
        DropCold();
      }
      if (i >= warmup || mode == kObserve) {
        const int64_t at = mode == kObserve ? 0 : i - warmup;
        c->samples[at] = static_cast<double>(t1 - t0);
        c->samples[c->slots + at] = static_cast<double>(c1 - c0);
        c->done++;
      }
    }
  }
};

// benchCase(params: NativeBenchParams, out: Float64Array) → { done, interrupted, stage, errno,
// badOffset, result }. Samples (ns) are copied into out[0..done).
Napi::Value BenchCase(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "benchCase(params: NativeBenchParams, out: Float64Array)");
  const BenchParams p = ReadParams(env, info[0].As<Napi::Object>());
  auto out = info[1].As<Napi::Float64Array>();
  const int64_t samples = p.samples;
  const int mode = p.mode;
  const int64_t slots = mode == kObserve ? 1 : samples;
  if (samples < 0 || static_cast<int64_t>(out.ElementLength()) < slots)
    throw Napi::TypeError::New(env, "benchCase: out is shorter than the sample count");

  // Timed moves never run in Node's multi-threaded process: there every move flushes the
  // TLBs of the CPUs Node's other threads ran on (IPIs the selftest never pays). The one
  // untimed observe call and empty brackets may.
  if (mode == kInProcess && p.op != kOpEmpty)
    throw Napi::TypeError::New(
        env, "benchCase: timed samples run only in the forked sampler (mode 'isolated')");
  const size_t ctlSize = sizeof(Control) + 2 * sizeof(double) * static_cast<size_t>(slots);
  void* mem = mmap(nullptr, ctlSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return Errno(env, errno);
  Control* c = static_cast<Control*>(mem);
  std::memset(c, 0, ctlSize);
  c->slots = slots;
  Sampler s{p, c};

  struct sigaction act {
  }, old{};
  act.sa_handler = OnSigint;
  act.sa_flags = SA_RESTART;
  sigemptyset(&act.sa_mask);
  g_control = c;
  sigaction(SIGINT, &act, &old);

  const int cpu = p.cpu;
  if (mode == kIsolated) {
    pid_t pid = fork();
    if (pid == -1) {
      c->stage = kStageSetup;
      c->err = errno;
    } else if (pid == 0) {
      if (int err = PinTo(cpu))
        s.Fail(kStagePin, err);
      else
        s.Run();
      s.FreeBuffers();
      _exit(0);
    } else {
      int status = 0;
      while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
      }
      if (WIFSIGNALED(status) && c->stage == kStageNone) {
        c->stage = kStageCrash;
        c->err = WTERMSIG(status);
      }
    }
  } else {
    cpu_set_t saved;
    bool restore = cpu >= 0 && sched_getaffinity(0, sizeof saved, &saved) == 0;
    if (int err = PinTo(cpu))
      s.Fail(kStagePin, err);
    else
      s.Run();
    s.FreeBuffers();
    if (restore) sched_setaffinity(0, sizeof saved, &saved);
  }
  sigaction(SIGINT, &old, nullptr);
  g_control = nullptr;

  Napi::Object r = Napi::Object::New(env);
  const int64_t done = c->done;
  // out[0..done): wall ns; if out holds twice the slots, out[slots..slots+done): CPU ns.
  const bool withCpu = static_cast<int64_t>(out.ElementLength()) >= 2 * slots;
  for (int64_t i = 0; i < done; i++) {
    out[static_cast<size_t>(i)] = c->samples[i];
    if (withCpu) out[static_cast<size_t>(slots + i)] = c->samples[slots + i];
  }
  const bool interrupted = c->stop != 0 && done < slots && c->stage == kStageNone;
  r.Set("done", Napi::Number::New(env, static_cast<double>(done)));
  r.Set("interrupted", Napi::Boolean::New(env, interrupted));
  static const char* const kStages[] = {"none", "setup", "mremap", "verify", "crash", "pin"};
  r.Set("stage", Napi::String::New(env, kStages[c->stage]));
  r.Set("errno", Napi::Number::New(env, c->err));
  r.Set("badOffset", Napi::Number::New(env, static_cast<double>(c->badOffset)));
  r.Set("result", Napi::BigInt::New(env, c->result));
  munmap(mem, ctlSize);
  return Ok(env, r);
}

}  // namespace

void InitTiming(Napi::Env env, Napi::Object exports) {
  exports.Set("benchMremapPingPong", Napi::Function::New(env, BenchMremapPingPong));
  exports.Set("benchMremapPingPongIsolated", Napi::Function::New(env, BenchMremapPingPongIsolated));
  exports.Set("benchMremapNoop", Napi::Function::New(env, BenchMremapNoop));
  exports.Set("benchCase", Napi::Function::New(env, BenchCase));
}

}  // namespace mrl
