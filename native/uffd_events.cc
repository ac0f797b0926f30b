// userfaultfd event reader. A ctx opened with UFFD_FEATURE_EVENT_REMAP/REMOVE/UNMAP makes
// the mremap/madvise/munmap caller wait in userfaultfd_event_wait_completion() until the
// monitor has read the event (fs/userfaultfd.c). The tool is its own monitor: one thread
// per such ctx reads and drops the messages, so those calls return as they would under a
// real monitor. Page faults never arrive here: the ctx is UFFD_USER_MODE_ONLY and the tool
// touches memory from the kernel (process_vm_writev), which gets EFAULT instead.
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common.h"

namespace mrl {
namespace {

struct Reader {
  int stop = -1;
  std::thread thread;
};

std::mutex readers_lock;
std::map<int, std::unique_ptr<Reader>> readers;

void ReadLoop(int fd, int stop) {
  pollfd p[2] = {{fd, POLLIN, 0}, {stop, POLLIN, 0}};
  uffd_msg msgs[16];
  for (;;) {
    if (poll(p, 2, -1) == -1) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    if ((p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return;
    while (read(fd, msgs, sizeof msgs) > 0) {
    }
  }
}

Napi::Value UffdClose(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(I64(info, 0));
  std::unique_ptr<Reader> r;
  {
    std::lock_guard<std::mutex> g(readers_lock);
    auto it = readers.find(fd);
    if (it != readers.end()) {
      r = std::move(it->second);
      readers.erase(it);
    }
  }
  if (r) {
    uint64_t one = 1;
    if (write(r->stop, &one, sizeof one) == sizeof one)
      r->thread.join();
    else
      r->thread.detach();
    close(r->stop);
  }
  if (close(fd) == -1) return Errno(info.Env(), errno);
  return OkNum(info.Env(), 0);
}

}  // namespace

bool StartUffdEventReader(int fd) {
  int stop = eventfd(0, EFD_CLOEXEC);
  if (stop == -1) return false;
  auto r = std::make_unique<Reader>();
  r->stop = stop;
  r->thread = std::thread(ReadLoop, fd, stop);
  std::lock_guard<std::mutex> g(readers_lock);
  readers[fd] = std::move(r);
  return true;
}

void InitUffdEvents(Napi::Env env, Napi::Object exports) {
  exports.Set("uffdClose", Napi::Function::New(env, UffdClose));
}

}  // namespace mrl
