// A real CPU load, done where it cannot hurt: in a forked child (see load.cc).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace mrl {

// What one 8-byte load did: signo 0 and the value, or the signal and its si_code.
struct LoadReport {
  int64_t signo;
  int64_t code;
  uint64_t value;
};

// Forks, loads the 8 bytes at addr in the child, reaps it. Async-signal-safe (the idle
// children of process.cc call it too). Returns 0 or an errno.
int LoadInFork(uint64_t addr, LoadReport* out);

// The same inside an idle child of process.cc (its own fork does the load).
int ChildLoad(pid_t pid, uint64_t addr, LoadReport* out);

}  // namespace mrl
