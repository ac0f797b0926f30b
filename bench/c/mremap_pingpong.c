/*
 * Plain C baseline for `npm run bench:native`: N one-page MREMAP_MAYMOVE|MREMAP_FIXED moves
 * between two addresses (a->b, b->a, ...), and N same-size no-op mremaps, each loop timed
 * with CLOCK_MONOTONIC around the loop only. Prints "move_ns_per_call noop_ns_per_call".
 * Usage: mremap_pingpong MOVES NOOPS [PAD_VMAS [ADDR_A ADDR_B]]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

int main(int argc, char **argv) {
  long moves = argc > 1 ? atol(argv[1]) : 100000;
  long noops = argc > 2 ? atol(argv[2]) : 1000000;
  /* Optional: pad the address space with this many extra VMAs (alternating protections),
     so the maple tree is as deep as in the process being compared. */
  long pad = argc > 3 ? atol(argv[3]) : 0;
  /* Optional: the addresses to move between (the addon's arena pages), so both programs
     move the same virtual pages. Otherwise the kernel picks. */
  unsigned long want_a = argc > 5 ? strtoul(argv[4], NULL, 0) : 0;
  unsigned long want_b = argc > 5 ? strtoul(argv[5], NULL, 0) : 0;
  const size_t ps = 4096;
  if (pad > 0) {
    char *p = mmap(NULL, (size_t)pad * ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return 1;
    for (long i = 0; i < pad; i += 2) mprotect(p + i * ps, ps, PROT_NONE);
  }
  char *area = mmap(NULL, 64 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (area == MAP_FAILED) return 1;
  unsigned long a = (unsigned long)area + ps, b = (unsigned long)area + 33 * ps;
  if (want_a && want_b) {
    a = want_a;
    b = want_b;
  }
  munmap((void *)a, ps);
  munmap((void *)b, ps);
  if (mmap((void *)a, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
    return 1;
  *(volatile long *)a = 1;
  unsigned long long t0 = now_ns();
  for (long i = 0; i < moves / 2; i++) {
    if (syscall(SYS_mremap, a, ps, ps, MREMAP_MAYMOVE | MREMAP_FIXED, b) == -1) return 2;
    if (syscall(SYS_mremap, b, ps, ps, MREMAP_MAYMOVE | MREMAP_FIXED, a) == -1) return 2;
  }
  unsigned long long t1 = now_ns();
  for (long i = 0; i < noops; i++) {
    if (syscall(SYS_mremap, a, ps, ps, 0, 0) == -1) return 3;
  }
  unsigned long long t2 = now_ns();
  printf("%.2f %.2f\n", (double)(t1 - t0) / (double)(moves / 2 * 2), (double)(t2 - t1) / (double)noops);
  return 0;
}
