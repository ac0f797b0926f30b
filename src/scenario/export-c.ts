/**
 * Standalone C reproducers: a scenario (through its divergent step) as a C program that
 * makes the same raw syscalls (`syscall(SYS_mremap, …)`, SYS_mmap …) in an arena of the
 * same relative layout, and checks the kernel against the model's expectations embedded as
 * constants: each step's result (value or errno), then the window's VMAs and pages after
 * the last step. It prints /proc/self/maps for the window and exits 1 when the kernel does
 * something the model did not expect, 0 when it behaves as modelled, 2 when the arena cannot
 * be set up. `cc repro.c && ./a.out` is all a kernel developer needs.
 *
 * Names become C variables bound at run time from the return values, so a mapping the
 * kernel moved to an address of its own choosing (MAYMOVE without FIXED) is followed there;
 * such placements are expected only to succeed.
 */
import type { ModelStepRecord } from './fuzz/harness.js';
import { parseAlign } from './address.js';
import { decodeStep, returnsAddress, type StepCall } from './steps/decode.js';
import { stepJson } from './steps/describe.js';
import { cBinds, cIdent as ident, stepC } from './steps/to-c.js';
import type { Scenario, Step } from './types.js';
import { ARENA_GUARD, ARENA_HINT_BASE, guardedSpan } from '../space/arena-guards.js';
import { PAGE_SIZE } from '../space/constants.js';

export interface CExportInput {
  scenario: Scenario;
  /** The model's result and window snapshot per step, for steps[0..model.length). */
  model: ModelStepRecord[];
  /** The arena start the model ran with (its addresses are made relative to it). */
  arenaStart: bigint;
  /** The comparison window (default: the arena). */
  window?: [bigint, bigint];
  /** What the tool saw, for the header comment. */
  headline?: string;
}

function expectC(
  rec: ModelStepRecord | undefined,
  op: Step['op'],
  base: bigint,
  arenaEnd: bigint,
): string {
  if (!rec) return 'WANT_ANY, 0, 0';
  const r = rec.result;
  if (!r.ok) return `WANT_ERR, 0, ${r.errno} /* ${r.code} */`;
  const v = typeof r.value === 'bigint' ? r.value : BigInt(Number(r.value));
  if (returnsAddress(op)) {
    // Inside the arena: the exact place. Outside: the kernel's choice, only success counts.
    const [lo, hi] = guardedSpan(base, arenaEnd);
    if (v >= lo && v <= hi) {
      const off = v - base;
      return off >= 0n
        ? `WANT_REL, 0x${off.toString(16)}L, 0`
        : `WANT_REL, -0x${(-off).toString(16)}L, 0`;
    }
    return 'WANT_OK, 0, 0';
  }
  return `WANT_VAL, 0x${BigInt.asUintN(64, v).toString(16)}UL, 0`;
}

/** Which names the steps bind (C variables to declare), in order of first binding. */
function names(calls: StepCall[]): { addrs: Set<string>; files: Set<string>; kids: Set<string> } {
  const addrs = new Set<string>();
  const files = new Set<string>();
  const kids = new Set<string>();
  for (const c of calls) {
    const b = cBinds(c);
    if (b.addr !== undefined) addrs.add(b.addr);
    if (b.file !== undefined) files.add(b.file);
    if (b.kid !== undefined) kids.add(b.kid);
  }
  return { addrs, files, kids };
}

/** The C source of the reproducer. */
export function exportC(input: CExportInput): string {
  const sc = input.scenario;
  const steps = sc.steps.slice(0, Math.max(input.model.length, 1));
  const pages = BigInt(sc.arena.pages);
  const align = parseAlign(sc.arena.align, '$.arena.align');
  const base = input.arenaStart;
  const arenaEnd = base + pages * PAGE_SIZE;
  const [winStart, winEnd] = input.window ?? [base, arenaEnd];
  const last = input.model[input.model.length - 1];
  const calls = steps.map((s, i) => decodeStep(s, i, `$.steps[${i}]`));
  const n = names(calls);
  const lines: string[] = [];
  const headline = input.headline ?? '';
  lines.push(
    `/*`,
    ` * mremap-lab reproducer: ${sc.id}`,
    ` * ${sc.title}`,
    ` * source: ${sc.source}`,
    ...(headline ? headline.split('\n').map((l) => ` * ${l}`) : []),
    ` *`,
    ` * Build and run:  cc repro.c -o repro && ./repro`,
    ` * Exit status: 0 the kernel did what the model expected, 1 it did not (differences`,
    ` * printed), 2 the arena could not be set up.`,
    ` * The arena: ${pages} pages, start aligned to 0x${align.toString(16)}, a PROT_NONE guard page on`,
    ` * each side, reserved with MAP_FIXED_NOREPLACE at a high fixed address like the tool's.`,
    ` */`,
    `#define _GNU_SOURCE`,
    `#include <errno.h>`,
    `#include <fcntl.h>`,
    `#include <linux/userfaultfd.h>`,
    `#include <poll.h>`,
    `#include <pthread.h>`,
    `#include <signal.h>`,
    `#include <stdint.h>`,
    `#include <stdio.h>`,
    `#include <stdlib.h>`,
    `#include <string.h>`,
    `#include <sys/ioctl.h>`,
    `#include <sys/mman.h>`,
    `#include <sys/syscall.h>`,
    `#include <sys/uio.h>`,
    `#include <sys/wait.h>`,
    `#include <unistd.h>`,
    ``,
    `#ifndef MAP_FIXED_NOREPLACE`,
    `#define MAP_FIXED_NOREPLACE 0x100000`,
    `#endif`,
    `#define PS 4096UL`,
    `#define GUARD 0x${ARENA_GUARD.toString(16)}UL /* PROT_NONE on each side of the arena */`,
    `#define ARENA_PAGES ${pages}UL`,
    `#define ARENA_ALIGN 0x${align.toString(16)}UL`,
    `#define WIN_FROM 0x${(winStart - base).toString(16)}UL /* the compared window, from A */`,
    `#define WIN_TO 0x${(winEnd - base).toString(16)}UL`,
    `enum { WANT_ANY, WANT_OK, WANT_REL, WANT_VAL, WANT_ERR };`,
    ``,
    `static unsigned long A; /* arena start */`,
    `static int mismatches;`,
    `static pid_t idle[16];`,
    `static int nidle;`,
    `static int uffd = -1;`,
    ...[...n.addrs].map((x) => `static unsigned long ${ident(x)};`),
    ...[...n.files].map((x) => `static int ${ident(x)} = -1;`),
    ...[...n.kids].map((x) => `static pid_t ${ident(x)};`),
    ``,
    `#define UNUSED __attribute__((unused))`,
    `static UNUSED void kill_idle(void) {`,
    `  for (int i = 0; i < nidle; i++) { kill(idle[i], SIGKILL); waitpid(idle[i], NULL, 0); }`,
    `  nidle = 0;`,
    `}`,
    `static UNUSED void forget_idle(pid_t p) {`,
    `  for (int i = 0; i < nidle; i++) if (idle[i] == p) idle[i] = idle[--nidle];`,
    `}`,
    ``,
    `/* A CPU-like store of the tag in each page, done as the tool does (process_vm_writev:`,
    `   a real write fault, EFAULT instead of SIGSEGV). */`,
    `static UNUSED long touch_pages(unsigned long addr, int n, unsigned long tag) {`,
    `  for (int p = 0; p < n; p++) {`,
    `    unsigned long t = tag + (unsigned long)p;`,
    `    struct iovec l = { &t, 8 }, rv = { (void *)((addr & ~(PS - 1)) + (unsigned long)p * PS), 8 };`,
    `    if (process_vm_writev(getpid(), &l, 1, &rv, 1, 0) != 8) { if (errno == 0) errno = EFAULT; return -1; }`,
    `  }`,
    `  return 0;`,
    `}`,
    ``,
    `/* A CPU-like load: MADV_POPULATE_READ takes the read fault, /proc/self/mem peeks the bytes. */`,
    `static UNUSED long read_pages(unsigned long addr, int n) {`,
    `  long v = 0;`,
    `  int fd = open("/proc/self/mem", O_RDONLY);`,
    `  for (int p = 0; p < n; p++) {`,
    `    unsigned long a = addr + (unsigned long)p * PS;`,
    `    if (syscall(SYS_madvise, a & ~(PS - 1), PS, 22) != 0) {`,
    `      if (errno == ENOMEM) errno = EFAULT;`,
    `      close(fd);`,
    `      return -1;`,
    `    }`,
    `    if (pread(fd, &v, 8, (off_t)a) != 8) { close(fd); errno = EFAULT; return -1; }`,
    `  }`,
    `  close(fd);`,
    `  return v;`,
    `}`,
    ``,
    `/* The monitor of a ctx with UFFD_FEATURE_EVENT_*: mremap/munmap wait until it reads the event. */`,
    `static UNUSED void *uffd_reader(void *arg) {`,
    `  int fd = (int)(long)arg;`,
    `  struct uffd_msg m[16];`,
    `  for (;;) {`,
    `    struct pollfd p = { fd, POLLIN, 0 };`,
    `    if (poll(&p, 1, -1) < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) return NULL;`,
    `    while (read(fd, m, sizeof m) > 0) {}`,
    `  }`,
    `}`,
    `/* features < 0: the current userfaultfd (opened with no features on first use); else a new one. */`,
    `static UNUSED long uffd_register(unsigned long addr, unsigned long len, unsigned long mode, long features) {`,
    `  if (uffd < 0 || features >= 0) {`,
    `    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);`,
    `    if (fd < 0) return -1;`,
    `    struct uffdio_api api = { .api = UFFD_API, .features = features < 0 ? 0 : (unsigned long)features };`,
    `    if (ioctl(fd, UFFDIO_API, &api) != 0) { int e = errno; close(fd); errno = e; return -1; }`,
    `    if (features > 0 && (features & (UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP))) {`,
    `      pthread_t t;`,
    `      pthread_create(&t, NULL, uffd_reader, (void *)(long)fd);`,
    `    }`,
    `    uffd = fd;`,
    `  }`,
    `  struct uffdio_register reg = { .range = { addr, len }, .mode = mode };`,
    `  return ioctl(uffd, UFFDIO_REGISTER, &reg) == 0 ? 0 : -1;`,
    `}`,
    ``,
    `static void check(int step, const char *what, long r, int kind, long long want, int werr) {`,
    `  int e = errno;`,
    `  char got[64], exp[64];`,
    `  if (r == -1) snprintf(got, sizeof got, "-1 %s", strerror(e));`,
    `  else if ((unsigned long)r >= A - GUARD && (unsigned long)r <= A + ARENA_PAGES * PS + GUARD)`,
    `    snprintf(got, sizeof got, "@%ld%+ld", (long)(((unsigned long)r - A) / PS), (long)(((unsigned long)r - A) % PS));`,
    `  else snprintf(got, sizeof got, "0x%lx", (unsigned long)r);`,
    `  int bad = 0;`,
    `  switch (kind) {`,
    `  case WANT_ANY: snprintf(exp, sizeof exp, "anything"); break;`,
    `  case WANT_OK: snprintf(exp, sizeof exp, "success (placed by the kernel)"); bad = r == -1; break;`,
    `  case WANT_REL: snprintf(exp, sizeof exp, "@%lld%+lld", want / (long long)PS, want % (long long)PS);`,
    `    bad = r == -1 || (unsigned long)r != A + (unsigned long)want; break;`,
    `  case WANT_VAL: snprintf(exp, sizeof exp, "0x%llx", (unsigned long long)want); bad = r == -1 || (unsigned long long)r != (unsigned long long)want; break;`,
    `  default: snprintf(exp, sizeof exp, "-1 %s", strerror(werr)); bad = r != -1 || e != werr; break;`,
    `  }`,
    `  printf("step %d: %s = %s%s%s\\n", step, what, got, bad ? "   MISMATCH, model expects " : "", bad ? exp : "");`,
    `  if (bad) mismatches++;`,
    `  errno = 0;`,
    `}`,
    ``,
    `struct vma { long long start, end; const char *perms; const char *kind; unsigned long long off; };`,
    `struct page { long long addr; int present; int tagged; unsigned long long tag; };`,
    ``,
  );
  // The model's window after the last step.
  const vmas = (last?.snapshot.vmas ?? []).filter((v) => v.end > winStart && v.start < winEnd);
  const rel = (a: bigint) => {
    const d = a - base;
    return d >= 0n ? `0x${d.toString(16)}LL` : `-0x${(-d).toString(16)}LL`;
  };
  lines.push(`static const struct vma want_vmas[] = {`);
  for (const v of vmas)
    lines.push(
      `  { ${rel(v.start)}, ${rel(v.end)}, "${v.prot}${v.shared ? 's' : 'p'}", "${v.kind}", 0x${(v.kind === 'file' ? v.offset : 0n).toString(16)}ULL },`,
    );
  lines.push(`  { 0, 0, 0, 0, 0 }`, `};`, `static const int n_want_vmas = ${vmas.length};`);
  const pagesIn = (last?.snapshot.pages ?? []).filter((p) => p.addr >= base && p.addr < arenaEnd);
  lines.push(`static const struct page want_pages[] = {`);
  for (const p of pagesIn)
    lines.push(
      `  { ${rel(p.addr)}, ${p.present ? 1 : 0}, ${p.present && p.tag !== null ? 1 : 0}, 0x${(p.present && p.tag !== null ? p.tag : 0n).toString(16)}ULL },`,
    );
  lines.push(`  { 0, 0, 0, 0 }`, `};`, `static const int n_want_pages = ${pagesIn.length};`, ``);
  lines.push(
    `static const char *kind_of(int shared, unsigned long inode, const char *name) {`,
    `  if (shared && (strcmp(name, "/dev/zero (deleted)") == 0 || strncmp(name, "[anon_shmem:", 12) == 0)) return "shmem";`,
    `  if (inode != 0 || name[0] == '/') return "file";`,
    `  return "anon";`,
    `}`,
    ``,
    `/* The window's VMAs from /proc/self/maps (full extents of those that intersect it). */`,
    `static void compare_window(void) {`,
    `  FILE *f = fopen("/proc/self/maps", "r");`,
    `  char line[512];`,
    `  int i = 0;`,
    `  unsigned long lo = A + WIN_FROM, hi = A + WIN_TO;`,
    `  printf("\\n/proc/self/maps, window [A+%lu, A+%lu pages), A = 0x%lx:\\n", WIN_FROM / PS, WIN_TO / PS, A);`,
    `  while (f && fgets(line, sizeof line, f)) {`,
    `    unsigned long s, e, off, inode; char perms[8] = "", name[256] = ""; unsigned maj, min;`,
    `    if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %255[^\\n]", &s, &e, perms, &off, &maj, &min, &inode, name) < 7) continue;`,
    `    if (e <= lo || s >= hi) continue;`,
    `    char *nm = name; while (*nm == ' ') nm++;`,
    `    const char *kind = kind_of(perms[3] == 's', inode, nm);`,
    `    printf("  %s", line);`,
    `    if (i >= n_want_vmas) { printf("    MISMATCH: the model expects no VMA here\\n"); mismatches++; i++; continue; }`,
    `    const struct vma *w = &want_vmas[i++];`,
    `    if ((long long)(s - A) != w->start || (long long)(e - A) != w->end || strcmp(perms, w->perms) != 0 ||`,
    `        strcmp(kind, w->kind) != 0 || (strcmp(kind, "file") == 0 && off != w->off)) {`,
    `      printf("    MISMATCH: the model expects [@%lld, @%lld) %s %s", w->start / (long long)PS, w->end / (long long)PS, w->perms, w->kind);`,
    `      if (strcmp(w->kind, "file") == 0) printf(" +0x%llx", w->off);`,
    `      printf("\\n");`,
    `      mismatches++;`,
    `    }`,
    `  }`,
    `  if (f) fclose(f);`,
    `  for (; i < n_want_vmas; i++) {`,
    `    const struct vma *w = &want_vmas[i];`,
    `    printf("  MISMATCH: missing VMA [@%lld, @%lld) %s %s the model expects\\n", w->start / (long long)PS, w->end / (long long)PS, w->perms, w->kind);`,
    `    mismatches++;`,
    `  }`,
    `  int pm = open("/proc/self/pagemap", O_RDONLY), mem = open("/proc/self/mem", O_RDONLY);`,
    `  for (int p = 0; p < n_want_pages; p++) {`,
    `    const struct page *w = &want_pages[p];`,
    `    unsigned long a = A + (unsigned long)w->addr;`,
    `    uint64_t ent = 0, tag = 0;`,
    `    if (pread(pm, &ent, 8, (off_t)(a / PS * 8)) != 8) ent = 0;`,
    `    int present = (ent >> 63) & 1;`,
    `    if (present != w->present) {`,
    `      printf("  MISMATCH: page @%lld %s, the model expects it %s\\n", w->addr / (long long)PS, present ? "present" : "not present", w->present ? "present" : "not present");`,
    `      mismatches++;`,
    `      continue;`,
    `    }`,
    `    if (present && w->tagged && pread(mem, &tag, 8, (off_t)a) == 8 && tag != w->tag) {`,
    `      printf("  MISMATCH: page @%lld holds 0x%llx, the model expects 0x%llx\\n", w->addr / (long long)PS, (unsigned long long)tag, w->tag);`,
    `      mismatches++;`,
    `    }`,
    `  }`,
    `  if (pm >= 0) close(pm);`,
    `  if (mem >= 0) close(mem);`,
    `}`,
    ``,
    `static int reserve_arena(void) {`,
    `  unsigned long size = ARENA_PAGES * PS;`,
    `  for (unsigned long slot = 0; slot < 256; slot++) {`,
    `    unsigned long hint = 0x${ARENA_HINT_BASE.toString(16)}UL + slot * (64UL << 30);`,
    `    unsigned long usable = (hint + GUARD + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);`,
    `    void *p = mmap((void *)(usable - GUARD), size + 2 * GUARD, PROT_NONE,`,
    `                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);`,
    `    if (p == MAP_FAILED) continue;`,
    `    if ((unsigned long)p != usable - GUARD) { munmap(p, size + 2 * GUARD); continue; }`,
    `    if (munmap((void *)usable, size) != 0) return -1;`,
    `    A = usable;`,
    `    return 0;`,
    `  }`,
    `  return -1;`,
    `}`,
    ``,
    `int main(void) {`,
    `  long r;`,
    `  setvbuf(stdout, NULL, _IONBF, 0);`,
    `  if (reserve_arena() != 0) { fprintf(stderr, "cannot reserve the arena\\n"); return 2; }`,
    `  printf("arena: 0x%lx, %lu pages\\n", A, ARENA_PAGES);`,
    `  errno = 0;`,
  );
  steps.forEach((s, i) => {
    lines.push(`  /* step ${i} */`);
    lines.push(...stepC(calls[i]!, i, stepJson(s), expectC(input.model[i], s.op, base, arenaEnd)));
  });
  lines.push(
    `  compare_window();`,
    `  kill_idle();`,
    `  if (mismatches) printf("\\n%d difference(s) from the model: the kernel behaves differently\\n", mismatches);`,
    `  else printf("\\nthe kernel did what the model expects\\n");`,
    `  return mismatches ? 1 : 0;`,
    `}`,
    ``,
  );
  return lines.join('\n');
}
