// Target for scripts/bench-observe.mjs: a small single-threaded process holding N VMAs
// (N pages mapped once, every other page made read-only so each mprotect splits a VMA),
// then idle until its stdin closes. Both the C baseline and the addon read this process's
// /proc/PID/maps, so they parse the same bytes, and no reader's own mm (Node's threads
// mapping and unmapping) changes between rounds or contends for its mmap_lock.
// usage: maps_target N   (prints "ready\n" once the VMAs exist)
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s N\n", argv[0]); return 2; }
  long n = atol(argv[1]), ps = sysconf(_SC_PAGESIZE);
  char *p = mmap(NULL, (size_t)(n * ps), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  for (long i = 1; i < n; i += 2)
    if (mprotect(p + i * ps, (size_t)ps, PROT_READ)) { perror("mprotect"); return 1; }
  fputs("ready\n", stdout);
  fflush(stdout);
  char b;
  while (read(0, &b, 1) > 0) {
  }
  return 0;
}
