// Baseline for scripts/bench-observe.mjs: one pread of /proc/PID/pagemap for COUNT pages from
// ADDR into a preallocated buffer, ROUNDS times. Prints median and minimum in milliseconds
// and the number of present entries (to check both sides saw the same memory).
// usage: pagemap_pread PID ADDR_HEX COUNT ROUNDS
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: %s PID ADDR COUNT ROUNDS\n", argv[0]); return 2; }
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/pagemap", argv[1]);
  uint64_t addr = strtoull(argv[2], NULL, 16);
  size_t count = strtoull(argv[3], NULL, 10);
  int rounds = atoi(argv[4]);
  int fd = open(path, O_RDONLY);
  if (fd < 0) { perror(path); return 1; }
  uint64_t *e = malloc(count * 8);
  double *t = malloc(sizeof(double) * (size_t)rounds);
  size_t present = 0;
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ms();
    ssize_t n = pread(fd, e, count * 8, (off_t)(addr / 4096 * 8));
    t[r] = now_ms() - t0;
    if (n != (ssize_t)(count * 8)) { fprintf(stderr, "short read %zd\n", n); return 1; }
  }
  for (size_t i = 0; i < count; i++) present += e[i] >> 63;
  qsort(t, (size_t)rounds, sizeof(double), cmp);
  printf("{\"present\":%zu,\"medianMs\":%.4f,\"minMs\":%.4f}\n", present, t[rounds / 2], t[0]);
  return 0;
}
