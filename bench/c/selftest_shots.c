// The setup and timed call of tools/testing/selftests/mm/mremap_test.c remap_region(), re-done
// (not copied) for two of its cases and repeated in one process, to tell the selftest's one
// cold shot from warm repetitions, and to switch parts of its setup to what `bench` does.
// Prints the first shot and the median of the rest, in ns, as one JSON line.
// usage: selftest_shots 8k|5m|preamble REPS [FLAGS]   (5m: the 5 MiB case without the preamble)
//   FLAGS bit 1: populate the source with MADV_POPULATE_WRITE instead of memcpy
//         bit 2: populate the preamble with MADV_POPULATE_WRITE instead of memcpy
//         bit 4: skip the is_remap_region_valid() probe of the destination
//         bit 8: place the source near 0x1b4080000000 (where bench's arena put it) instead
//                of just above mmap_min_addr + 40 MiB
//         bit 16: just before the clock, what bench's sampler does there: munmap the empty
//                 gaps around the source and destination (its OpenRegion) and read
//                 CLOCK_THREAD_CPUTIME_ID (a real syscall)
//         bit 32: just before the clock, memcpy 40 MiB from the random buffer into a scratch
//                 buffer: the preamble's fill without the preamble
//         bit 64: what bench's sampler did before it placed the preamble last: PROT_NONE
//                 placeholders over the gaps around source, preamble and destination, mapped
//                 before the fills and munmapped after them, just before the clock
//         bit 128: before the case's setup, write 40 MiB of a fresh mapping, as main() fills
//                  its random buffer before the first case (bench's coldShot)
// Run by hand (docs/benchmarks.md, "Beside the selftest"); no script depends on it.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MIB (1ULL << 20)

static char *rnd;
static int flags;
static unsigned long long min_addr;

// get_source_mapping(): the first address above the headroom that is exactly `align` aligned.
static unsigned long long source(unsigned long long align, unsigned long long size) {
  unsigned long long addr = (flags & 8) ? 0x1b4080000000ULL - align : 0;
  for (;;) {
    addr += align;
    if (addr < min_addr) continue;
    void *p = mmap((void *)addr, size, PROT_READ | PROT_WRITE,
                   MAP_FIXED_NOREPLACE | MAP_ANONYMOUS | MAP_SHARED, -1, 0);
    if (p == MAP_FAILED) {
      if (errno == EEXIST || errno == EPERM) continue;
      perror("mmap source");
      exit(1);
    }
    if (((unsigned long long)p & (align - 1)) || !((unsigned long long)p & align)) {
      munmap(p, size);
      continue;
    }
    return (unsigned long long)p;
  }
}

static int free_range(unsigned long long a, unsigned long long size) {
  void *p = mmap((void *)a, size, PROT_READ | PROT_WRITE,
                 MAP_FIXED_NOREPLACE | MAP_ANONYMOUS | MAP_SHARED, -1, 0);
  if (p == MAP_FAILED) return errno != EEXIST;
  munmap(p, size);
  return 1;
}

static char *scratch(void) {
  static char *s;
  if (!s) s = mmap(NULL, 40 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) { perror("mmap scratch"); exit(1); }
  return s;
}

static long long shot(unsigned long long align, unsigned long long size, unsigned long long pre) {
  if (flags & 128) {
    char *f = mmap(NULL, 40 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f == MAP_FAILED) { perror("mmap fill"); exit(1); }
    for (unsigned long i = 0; i < 40 * MIB; i += 8) *(volatile unsigned long long *)(f + i) = i;
    munmap(f, 40 * MIB);
  }
  unsigned long long src = source(align, size);
  if (flags & 1) madvise((void *)src, size, MADV_POPULATE_WRITE);
  else memcpy((void *)src, rnd, size);
  unsigned long long dst = ((src + size + align) & ~(align - 1)) + pre;
  if (!(dst & align)) dst |= align;
  if (!(flags & 4))
    while (!free_range(dst, size)) dst += align;
  void *pa = NULL;
  const unsigned long long glo = src - 64 * MIB, ghi = dst + size + 64 * MIB;
  const int hole = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE;
  if (flags & 64) {
    mmap((void *)glo, src - glo, PROT_NONE, hole, -1, 0);
    mmap((void *)(src + size), (dst - pre) - (src + size), PROT_NONE, hole, -1, 0);
    mmap((void *)dst, ghi - dst, PROT_NONE, hole, -1, 0);
  }
  if (pre) {
    pa = mmap((void *)(dst - pre), pre, PROT_READ | PROT_WRITE,
              MAP_FIXED_NOREPLACE | MAP_ANONYMOUS | MAP_SHARED, -1, 0);
    if (pa == MAP_FAILED) { perror("mmap preamble"); exit(1); }
    if (flags & 2) madvise(pa, pre, MADV_POPULATE_WRITE);
    else memcpy(pa, rnd, pre);
  }
  struct timespec t0, t1;
  if (flags & 64) {
    munmap((void *)glo, src - glo);
    munmap((void *)(src + size), (dst - pre) - (src + size));
    munmap((void *)dst, ghi - dst);
  }
  if (flags & 32) memcpy(scratch(), rnd, 40 * MIB);
  if (flags & 16) {
    unsigned long long lo = src - 64 * MIB, hi = dst + size + 64 * MIB;
    munmap((void *)lo, src - lo);
    munmap((void *)(src + size), (dst - pre) - (src + size));
    munmap((void *)dst, hi - dst);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  void *d = mremap((void *)src, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)dst);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (d == MAP_FAILED) { perror("mremap"); exit(1); }
  munmap(d, size);
  if (pre) munmap(pa, pre);
  return (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s 8k|5m|preamble REPS [FLAGS]\n", argv[0]); return 2; }
  const int pre = !strcmp(argv[1], "preamble"), five = !strcmp(argv[1], "5m");
  if (!pre && !five && strcmp(argv[1], "8k")) { fprintf(stderr, "case: 8k, 5m or preamble\n"); return 2; }
  int reps = atoi(argv[2]);
  flags = argc > 3 ? atoi(argv[3]) : 0;
  if (reps < 2 || reps > 1000) { fprintf(stderr, "REPS: 2..1000\n"); return 2; }
  FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
  if (!f || fscanf(f, "%llu", &min_addr) != 1) { perror("mmap_min_addr"); return 1; }
  fclose(f);
  min_addr += 40 * MIB;
  // The selftest's random pattern buffer (main(): rand_size >= the 40 MiB preamble).
  rnd = mmap(NULL, 40 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (rnd == MAP_FAILED) { perror("mmap"); return 1; }
  srand(1);
  for (unsigned long i = 0; i < 40 * MIB; i++) rnd[i] = (char)rand();
  long long t[1000];
  for (int r = 0; r < reps; r++) t[r] = pre ? shot(MIB, 5 * MIB, 40 * MIB) : five ? shot(MIB, 5 * MIB, 0) : shot(4096, 8192, 0);
  qsort(t + 1, (size_t)(reps - 1), sizeof t[0], cmp);
  printf("{\"case\":\"%s\",\"flags\":%d,\"firstNs\":%lld,\"restMedianNs\":%lld}\n", argv[1], flags,
         t[0], t[1 + (reps - 1) / 2]);
  return 0;
}
