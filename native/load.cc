// loadProbe(pid, addr): which signal a real CPU load of 8 bytes at addr raises — SIGSEGV
// (SEGV_MAPERR: no VMA or a guard marker; SEGV_ACCERR: the VMA forbids reads) or SIGBUS
// (BUS_ADRERR: past a file's end, no huge page) — or the value it reads. The safe accesses of
// memory.cc only see EFAULT and cannot tell these apart.
//
// The load never runs in Node: a forked, single-threaded child installs SA_SIGINFO handlers
// for SIGSEGV and SIGBUS, loads, and writes what happened to a pipe; its handler _exit()s. The
// child's mm is a copy of the parent's at fork (dup_mmap), which is exactly the state to test,
// and whatever its fault changes (a zero page mapped, a stack VMA expanded) stays in the
// child, which is reaped before loadProbe returns. What fork does not copy is absent there as
// it is for any child: MADV_DONTFORK VMAs (the arena's placeholders, so holes are plain holes)
// and userfaultfd registration without UFFD_FEATURE_EVENT_FORK (dup_userfaultfd clears it).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "fdio.h"
#include "load.h"

namespace mrl {
namespace {

int report_fd = -1;

void OnFault(int signo, siginfo_t* si, void*) {
  LoadReport r{signo, si->si_code, 0};
  WriteFull(report_fd, &r, sizeof r);
  _exit(0);
}

[[noreturn]] void LoadChild(uint64_t addr, int fd) {
  report_fd = fd;
  struct sigaction sa {};
  sa.sa_sigaction = OnFault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
  // A blocked SIGSEGV/SIGBUS from a fault kills instead of reaching the handler.
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, SIGSEGV);
  sigaddset(&unblock, SIGBUS);
  sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
  uint64_t v = *reinterpret_cast<const volatile uint64_t*>(addr);
  LoadReport r{0, 0, v};
  WriteFull(fd, &r, sizeof r);
  _exit(0);
}

}  // namespace

int LoadInFork(uint64_t addr, LoadReport* out) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) == -1) return errno;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == -1) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return e;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    close(p[0]);
    LoadChild(addr, p[1]);
  }
  close(p[1]);
  bool got = ReadFull(p[0], out, sizeof *out);
  close(p[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
  }
  // The child died without reporting (a signal the handlers do not catch).
  if (!got) return ECHILD;
  return 0;
}

namespace {

Napi::Value LoadProbe(const Napi::CallbackInfo& info) {
  int64_t pid = I64(info, 0);
  uint64_t addr = U64(info, 1);
  LoadReport r{};
  int e = pid == 0 ? LoadInFork(addr, &r) : ChildLoad(static_cast<pid_t>(pid), addr, &r);
  if (e != 0) return Errno(info.Env(), e);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("signo", Napi::Number::New(info.Env(), static_cast<double>(r.signo)));
  o.Set("code", Napi::Number::New(info.Env(), static_cast<double>(r.code)));
  o.Set("value", Napi::BigInt::New(info.Env(), r.value));
  return Ok(info.Env(), o);
}

}  // namespace

void InitLoad(Napi::Env env, Napi::Object exports) {
  exports.Set("loadProbe", Napi::Function::New(env, LoadProbe));
}

}  // namespace mrl
