// Placeholders are PROT_NONE MAP_SHARED mappings of one memfd, at file offset == address:
//  - a file mapping never merges with the tool's anonymous or memfd mappings
//    (mm/vma.c is_mergeable_vma compares vm_file), so each VMA is wholly a placeholder or
//    wholly the scenario's, and adjacent placeholders merge with each other (contiguous
//    pgoff);
//  - the name tells snapshots which VMAs to leave out, so a placeholder looks like the hole
//    it stands for;
//  - MADV_DONTFORK keeps them out of fork children (dup_mmap skips VM_DONTCOPY): a child is
//    single-threaded, so its holes are real holes, exactly as before.
// PROT_NONE shared file pages are never faulted and never charged (no VM_ACCOUNT).
#include "holes.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common.h"
#include "uapi_compat.h"

namespace mrl {

namespace {

int HoleFd() {
  // Created once; a forked sampler inherits it (close-on-exec only).
  static int fd = -1;
  if (fd < 0) fd = static_cast<int>(syscall(__NR_memfd_create, kHoleName, MFD_CLOEXEC));
  return fd;
}

Napi::Value PlaceHoleJs(const Napi::CallbackInfo& info) {
  if (PlaceHole(U64(info, 0), U64(info, 1), info[2].ToBoolean().Value()) == -1)
    return Errno(info.Env(), errno);
  return OkNum(info.Env(), 0);
}

}  // namespace

int PlaceHole(uint64_t addr, uint64_t len, bool replace) {
  const int fd = HoleFd();
  if (fd < 0) return -1;
  const long mode = replace ? MAP_FIXED : MAP_FIXED_NOREPLACE;
  long r = syscall(SYS_mmap, addr, len, PROT_NONE, MAP_SHARED | MAP_NORESERVE | mode, fd, addr);
  if (r == -1) return -1;
  if (static_cast<uint64_t>(r) != addr) {
    // Kernels before 4.17 take MAP_FIXED_NOREPLACE as a hint: undo, report the collision.
    syscall(SYS_munmap, r, len);
    errno = EEXIST;
    return -1;
  }
  syscall(SYS_madvise, addr, len, MADV_DONTFORK);
  return 0;
}

void InitHoles(Napi::Env env, Napi::Object exports) {
  exports.Set("placeHole", Napi::Function::New(env, PlaceHoleJs));
}

}  // namespace mrl
