/*
 * Plain C baseline for scripts/bench-accuracy.mjs: the same sample loop as `mremap-lab bench`
 * (native/timing.cc BenchCase) at the same addresses, in a small single-threaded process.
 * Per sample: map the source (MAP_FIXED), populate it (MADV_POPULATE_WRITE), write one
 * word per page, time exactly one MREMAP_MAYMOVE|MREMAP_FIXED move with CLOCK_MONOTONIC,
 * check the words at the destination, unmap. Prints the timed samples in ns, one per line.
 * Usage: mremap_case ARENA_LO ARENA_HI SRC DST LEN SHARED SAMPLES WARMUP [CPU]
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t word(uint64_t page) { return (page + 1) * 0x2545F4914F6CDD1Dull; }

int main(int argc, char **argv) {
  if (argc < 9) {
    fprintf(stderr, "usage: %s ARENA_LO ARENA_HI SRC DST LEN SHARED SAMPLES WARMUP [CPU]\n", argv[0]);
    return 2;
  }
  uint64_t lo = strtoull(argv[1], NULL, 0), hi = strtoull(argv[2], NULL, 0);
  uint64_t src = strtoull(argv[3], NULL, 0), dst = strtoull(argv[4], NULL, 0);
  uint64_t len = strtoull(argv[5], NULL, 0);
  int shared = atoi(argv[6]);
  long samples = atol(argv[7]), warmup = atol(argv[8]);
  if (argc > 9) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(argv[9]), &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  /* The arena's PROT_NONE guard pages, as in the tool's process. */
  if (mmap((void *)(lo - 4096), 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED ||
      mmap((void *)hi, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED) {
    perror("guard");
    return 1;
  }
  int flags = MAP_FIXED | MAP_ANONYMOUS | (shared ? MAP_SHARED : MAP_PRIVATE);
  for (long i = 0; i < warmup + samples; i++) {
    if (mmap((void *)src, len, PROT_READ | PROT_WRITE, flags, -1, 0) == MAP_FAILED) {
      perror("mmap");
      return 1;
    }
    madvise((void *)src, len, MADV_POPULATE_WRITE);
    for (uint64_t p = 0; p < len / 4096; p++) *(volatile uint64_t *)(src + p * 4096) = word(p);
    uint64_t t0 = now_ns();
    long r = syscall(SYS_mremap, src, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    uint64_t t1 = now_ns();
    if (r == -1) {
      perror("mremap");
      return 1;
    }
    for (uint64_t p = 0; p < len / 4096; p++) {
      if (*(volatile uint64_t *)(dst + p * 4096) != word(p)) {
        fprintf(stderr, "data differs at page %llu\n", (unsigned long long)p);
        return 1;
      }
    }
    munmap((void *)dst, len);
    if (i >= warmup) printf("%llu\n", (unsigned long long)(t1 - t0));
  }
  return 0;
}
