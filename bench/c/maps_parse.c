// Baseline for scripts/bench-observe.mjs: read /proc/PID/maps in one go and parse every line
// into columns (start, end, perms, offset, dev, inode, name offset) the way a careful C tool
// would. Prints the median and minimum of ROUNDS runs in milliseconds as one JSON line, and
// the medians of the read and the parse alone (where the time goes).
// usage: maps_parse PID ROUNDS
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *buf;
static size_t cap = 1 << 16;

static size_t read_all(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) { perror(path); exit(1); }
  size_t len = 0;
  for (;;) {
    if (cap - len < (1 << 15)) { cap *= 2; buf = realloc(buf, cap); }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) { perror("read"); exit(1); }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  return len;
}

static inline uint64_t hex(const char **pp) {
  const char *p = *pp;
  uint64_t v = 0;
  for (;; p++) {
    char c = *p;
    if (c >= '0' && c <= '9') v = v * 16 + (uint64_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v = v * 16 + (uint64_t)(c - 'a' + 10);
    else break;
  }
  *pp = p;
  return v;
}

struct cols { uint64_t *start, *end, *off, *ino; uint32_t *maj, *min, *name; uint8_t *perm; size_t n, cap; };

static void push(struct cols *c) {
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 1024;
    c->start = realloc(c->start, c->cap * 8); c->end = realloc(c->end, c->cap * 8);
    c->off = realloc(c->off, c->cap * 8); c->ino = realloc(c->ino, c->cap * 8);
    c->maj = realloc(c->maj, c->cap * 4); c->min = realloc(c->min, c->cap * 4);
    c->name = realloc(c->name, c->cap * 4); c->perm = realloc(c->perm, c->cap);
  }
}

static size_t parse(size_t len, struct cols *c) {
  const char *p = buf, *end = buf + len;
  c->n = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) nl = end;
    push(c);
    size_t i = c->n++;
    c->start[i] = hex(&p); p++;
    c->end[i] = hex(&p); p++;
    c->perm[i] = (p[0] == 'r') | (p[1] == 'w') << 1 | (p[2] == 'x') << 2 | (p[3] == 's') << 3;
    p += 5;
    c->off[i] = hex(&p); p++;
    c->maj[i] = (uint32_t)hex(&p); p++;
    c->min[i] = (uint32_t)hex(&p); p++;
    uint64_t ino = 0;
    while (*p >= '0' && *p <= '9') ino = ino * 10 + (uint64_t)(*p++ - '0');
    c->ino[i] = ino;
    while (p < nl && *p == ' ') p++;
    c->name[i] = (uint32_t)(p - buf);
    p = nl + 1;
  }
  return c->n;
}

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
  if (argc < 3) { fprintf(stderr, "usage: %s PID ROUNDS\n", argv[0]); return 2; }
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/maps", argv[1]);
  int rounds = atoi(argv[2]);
  buf = malloc(cap);
  struct cols c = {0};
  double *t = malloc(sizeof(double) * (size_t)rounds * 3), *tr = t + rounds, *tp = tr + rounds;
  size_t n = 0;
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ms();
    size_t len = read_all(path);
    double t1 = now_ms();
    n = parse(len, &c);
    double t2 = now_ms();
    t[r] = t2 - t0;
    tr[r] = t1 - t0;
    tp[r] = t2 - t1;
  }
  qsort(t, (size_t)rounds, sizeof(double), cmp);
  qsort(tr, (size_t)rounds, sizeof(double), cmp);
  qsort(tp, (size_t)rounds, sizeof(double), cmp);
  printf("{\"vmas\":%zu,\"medianMs\":%.4f,\"minMs\":%.4f,\"readMs\":%.4f,\"parseMs\":%.4f}\n", n,
         t[rounds / 2], t[0], tr[rounds / 2], tp[rounds / 2]);
  return 0;
}
