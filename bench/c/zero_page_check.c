/* Does a read fault on untouched private anonymous memory map the shared zero page?
 * An independent check of `probe --json` traits.zeroPage: prints 1 or 0.
 * pagemap bit 56 (PM_MMAP_EXCLUSIVE) is never set for the zero page, which has no
 * struct page behind vm_normal_page(); a freshly allocated page is mapped exactly once. */
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>

int main(void) {
  long ps = sysconf(_SC_PAGESIZE);
  volatile char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED || madvise((void *)p, ps, MADV_NOHUGEPAGE)) return 2;
  (void)p[0]; /* the read fault */
  uint64_t e = 0;
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0 || pread(fd, &e, 8, (uintptr_t)p / ps * 8) != 8 || !(e >> 63)) return 2;
  printf("%d\n", (int)!((e >> 56) & 1));
  return 0;
}
