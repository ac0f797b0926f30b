// Forked children. fork() from a multi-threaded Node process leaves the child with one
// thread and possibly-held locks, so the child does only async-signal-safe work: read() a
// command record from a pipe (with, for ioctls, the argument struct to copy into its own
// memory), syscall(), write() the answer, _exit(). That is enough to run
// mm steps "inside" the child (the kernel treats a forked child's VMAs differently: their
// anon_vma chains have the parent's anon_vma too); its memory is read and written from the
// parent with process_vm_readv/writev (memory.cc). The child exits on EOF, so it never
// outlives the tool, and the parent reaps it.
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "common.h"
#include "fdio.h"
#include "load.h"
#include "uapi_compat.h"

namespace mrl {
namespace {

struct Command {
  // 0 = exit, 1 = syscall, 2 = syscall whose argument `block_arg` points at `block`,
  // 3 = load args[0] in a grandchild (load.cc)
  int64_t op;
  int64_t nr;
  uint64_t args[6];
  // Argument structs (uffdio_api, uffdio_register) for op 2: the child copies them into its
  // own memory, since a pointer into the parent's memory after fork() means nothing there.
  int64_t block_arg;
  uint8_t block[64];
};

// The child has the parent's memory as of fork(): read-only data of the addon sits at the
// same address there, so it can name a memfd.
constexpr char kMemfdName[] = "mremap-lab";

struct Answer {
  int64_t ret;
  int64_t err;
};

struct Child {
  int cmd;  // parent writes commands here
  int ans;  // parent reads answers here
};

std::map<pid_t, Child> children;

[[noreturn]] void ChildLoop(int cmd, int ans) {
  Command c;
  alignas(64) static uint8_t scratch[sizeof c.block];
  while (ReadFull(cmd, &c, sizeof c) && (c.op == 1 || c.op == 2 || c.op == 3)) {
    if (c.op == 3) {
      // The load runs in a fork of this child, so its fault changes nothing here either.
      LoadReport r{};
      int e = LoadInFork(c.args[0], &r);
      Answer a{e == 0 ? 0 : -1, e};
      if (!WriteFull(ans, &a, sizeof a) || (e == 0 && !WriteFull(ans, &r, sizeof r))) break;
      continue;
    }
    if (c.op == 2 && c.block_arg >= 0 && c.block_arg < 6) {
      for (size_t i = 0; i < sizeof scratch; i++) scratch[i] = c.block[i];
      c.args[c.block_arg] = reinterpret_cast<uint64_t>(scratch);
    }
    long r = syscall(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
    Answer a{r, r == -1 ? errno : 0};
    if (!WriteFull(ans, &a, sizeof a)) break;
  }
  _exit(0);
}

Napi::Value ForkIdle(const Napi::CallbackInfo& info) {
  int to_child[2], to_parent[2];
  if (pipe2(to_child, O_CLOEXEC) == -1) return Errno(info.Env(), errno);
  if (pipe2(to_parent, O_CLOEXEC) == -1) {
    int e = errno;
    close(to_child[0]);
    close(to_child[1]);
    return Errno(info.Env(), e);
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == -1) {
    int e = errno;
    for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) close(fd);
    return Errno(info.Env(), e);
  }
  if (pid == 0) {
    // Die with the parent even if the pipe is somehow kept open elsewhere.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    close(to_child[1]);
    close(to_parent[0]);
    // The parent's pipes to older children were inherited (O_CLOEXEC acts only on exec):
    // holding them would keep an older child's command pipe open, so releasing it would
    // never reach EOF. Walking the map only reads memory, which is safe after fork.
    for (const auto& [other, c] : children) {
      close(c.cmd);
      close(c.ans);
    }
    ChildLoop(to_child[0], to_parent[1]);
  }
  close(to_child[0]);
  close(to_parent[1]);
  children[pid] = Child{to_child[1], to_parent[0]};
  return OkNum(info.Env(), pid);
}

// Sends one command to the child and waits for its answer; false when the child is gone.
bool RunInChild(pid_t pid, Command& c, Answer& a) {
  auto it = children.find(pid);
  if (it == children.end()) {
    a = Answer{-1, ESRCH};
    return true;
  }
  return WriteFull(it->second.cmd, &c, sizeof c) && ReadFull(it->second.ans, &a, sizeof a);
}

Napi::Value Answered(Napi::Env env, bool sent, const Answer& a) {
  if (!sent) return Errno(env, ECHILD);
  if (a.ret == -1) return Errno(env, static_cast<int>(a.err));
  return OkBig(env, static_cast<uint64_t>(a.ret));
}

Napi::Value ChildSyscall(const Napi::CallbackInfo& info) {
  Command c{1, I64(info, 1), {}, -1, {}};
  for (size_t i = 0; i < 6; i++) c.args[i] = i + 2 < info.Length() ? U64(info, i + 2) : 0;
  Answer a{};
  bool sent = RunInChild(static_cast<pid_t>(I64(info, 0)), c, a);
  return Answered(info.Env(), sent, a);
}

// childMemfd(pid): memfd_create("mremap-lab", MFD_CLOEXEC) inside the child; value is its fd.
Napi::Value ChildMemfd(const Napi::CallbackInfo& info) {
  Command c{1, __NR_memfd_create, {reinterpret_cast<uint64_t>(kMemfdName), MFD_CLOEXEC}, -1, {}};
  Answer a{};
  bool sent = RunInChild(static_cast<pid_t>(I64(info, 0)), c, a);
  return Answered(info.Env(), sent, a);
}

// childUffdOpen(pid, features): userfaultfd() inside the child (UFFD_USER_MODE_ONLY first, as
// UffdOpen does) and UFFDIO_API; value is the child's fd, which stays open in the child.
Napi::Value ChildUffdOpen(const Napi::CallbackInfo& info) {
  pid_t pid = static_cast<pid_t>(I64(info, 0));
  bool kernel_faults = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>();
  Command c{1, __NR_userfaultfd, {O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY}, -1, {}};
  Answer a{-1, EINVAL};
  bool sent = kernel_faults || RunInChild(pid, c, a);
  if (sent && a.ret == -1 && a.err == EINVAL) {
    c.args[0] = O_CLOEXEC | O_NONBLOCK;
    sent = RunInChild(pid, c, a);
  }
  if (!sent || a.ret == -1) return Answered(info.Env(), sent, a);
  int64_t fd = a.ret;
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = U64(info, 1);
  Command io{2, SYS_ioctl, {static_cast<uint64_t>(fd), UFFDIO_API}, 2, {}};
  static_assert(sizeof api <= sizeof io.block);
  memcpy(io.block, &api, sizeof api);
  Answer b{};
  bool ok = RunInChild(pid, io, b);
  if (!ok || b.ret == -1) {
    Command cl{1, SYS_close, {static_cast<uint64_t>(fd)}, -1, {}};
    Answer ignored{};
    RunInChild(pid, cl, ignored);
    return Answered(info.Env(), ok, b);
  }
  return OkNum(info.Env(), static_cast<double>(fd));
}

// childUffdRegister(pid, fd, addr, len, mode): UFFDIO_REGISTER inside the child.
Napi::Value ChildUffdRegister(const Napi::CallbackInfo& info) {
  uffdio_register reg{};
  reg.range.start = U64(info, 2);
  reg.range.len = U64(info, 3);
  reg.mode = U64(info, 4);
  Command io{2, SYS_ioctl, {static_cast<uint64_t>(I64(info, 1)), UFFDIO_REGISTER}, 2, {}};
  static_assert(sizeof reg <= sizeof io.block);
  memcpy(io.block, &reg, sizeof reg);
  Answer a{};
  bool sent = RunInChild(static_cast<pid_t>(I64(info, 0)), io, a);
  return Answered(info.Env(), sent, a);
}

}  // namespace

int ChildLoad(pid_t pid, uint64_t addr, LoadReport* out) {
  auto it = children.find(pid);
  if (it == children.end()) return ESRCH;
  Command c{3, 0, {addr}, -1, {}};
  Answer a{};
  if (!WriteFull(it->second.cmd, &c, sizeof c) || !ReadFull(it->second.ans, &a, sizeof a))
    return ECHILD;
  if (a.ret == -1) return static_cast<int>(a.err);
  return ReadFull(it->second.ans, out, sizeof *out) ? 0 : ECHILD;
}

namespace {

Napi::Value Reap(const Napi::CallbackInfo& info, bool kill_first) {
  pid_t pid = static_cast<pid_t>(I64(info, 0));
  auto it = children.find(pid);
  if (it == children.end()) return Errno(info.Env(), ESRCH);
  if (kill_first) kill(pid, SIGKILL);
  close(it->second.cmd);  // EOF: the child's loop ends and it exits
  close(it->second.ans);
  children.erase(it);
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, 0);
  } while (r == -1 && errno == EINTR);
  if (r == -1) return Errno(info.Env(), errno);
  return OkNum(info.Env(), WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

Napi::Value ReleaseChild(const Napi::CallbackInfo& info) { return Reap(info, false); }
Napi::Value KillChild(const Napi::CallbackInfo& info) { return Reap(info, true); }

// memlockLimit(): RLIMIT_MEMLOCK as [soft, hard] bytes (RLIM_INFINITY is 2^64-1).
Napi::Value MemlockLimit(const Napi::CallbackInfo& info) {
  rlimit r{};
  if (getrlimit(RLIMIT_MEMLOCK, &r) == -1) return Errno(info.Env(), errno);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, Napi::BigInt::New(info.Env(), static_cast<uint64_t>(r.rlim_cur)));
  a.Set(1u, Napi::BigInt::New(info.Env(), static_cast<uint64_t>(r.rlim_max)));
  return Ok(info.Env(), a);
}

// setMemlockLimit(soft): lowers or raises the soft limit only (an unprivileged process can
// raise it again up to the hard limit, which stays as it was).
Napi::Value SetMemlockLimit(const Napi::CallbackInfo& info) {
  rlimit r{};
  if (getrlimit(RLIMIT_MEMLOCK, &r) == -1) return Errno(info.Env(), errno);
  r.rlim_cur = static_cast<rlim_t>(U64(info, 0));
  if (setrlimit(RLIMIT_MEMLOCK, &r) == -1) return Errno(info.Env(), errno);
  return OkNum(info.Env(), 0);
}

}  // namespace

void InitProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("forkIdle", Napi::Function::New(env, ForkIdle));
  exports.Set("childSyscall", Napi::Function::New(env, ChildSyscall));
  exports.Set("childMemfd", Napi::Function::New(env, ChildMemfd));
  exports.Set("childUffdOpen", Napi::Function::New(env, ChildUffdOpen));
  exports.Set("childUffdRegister", Napi::Function::New(env, ChildUffdRegister));
  exports.Set("releaseChild", Napi::Function::New(env, ReleaseChild));
  exports.Set("killChild", Napi::Function::New(env, KillChild));
  exports.Set("memlockLimit", Napi::Function::New(env, MemlockLimit));
  exports.Set("setMemlockLimit", Napi::Function::New(env, SetMemlockLimit));
}

}  // namespace mrl
