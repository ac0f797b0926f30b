// Arena placeholders: what keeps an unused arena page from being a hole that another thread
// of this process (V8's heap, libuv) could mmap into. See native/holes.cc.
#pragma once

#include <cstdint>

namespace mrl {

// The name of the placeholder file as /proc/PID/maps shows it (snapshots leave these out).
inline constexpr const char* kHoleName = "mremap-lab-hole";

// Covers [addr, addr+len) with a placeholder. replace=false: MAP_FIXED_NOREPLACE, fails with
// EEXIST if anything is mapped there. replace=true: MAP_FIXED, an atomic replacement that
// never opens a hole — only over memory the caller owns. Returns 0 or -1 with errno set.
int PlaceHole(uint64_t addr, uint64_t len, bool replace);

}  // namespace mrl
