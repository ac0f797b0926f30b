/**
 * A decoded step as C statements for the standalone reproducer (export-c.ts writes the rest
 * of the program): the same raw syscall with the same arguments, addresses relative to the
 * arena start `A` or to a C variable holding a name's address, bound from return values at
 * run time as the runner binds names.
 */
import { addrParts } from '../address.js';
import type { StepCall } from './decode.js';

/** The C variable holding a name's value. */
export function cIdent(name: string): string {
  return `n_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** A C string literal (no trigraphs). */
export function cString(s: string): string {
  return JSON.stringify(s).replace(/\?/g, '\\?');
}

function ul(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}UL`;
}

/** An address expression as a C expression of type unsigned long. */
export function cAddr(expr: string): string {
  const p = addrParts(expr, 'export-c');
  if (p.base === 'absolute') return ul(p.addr);
  const base = p.base === 'arena' ? 'A' : cIdent(p.name);
  if (p.offset === 0n) return base;
  return p.offset > 0n
    ? `(${base} + 0x${p.offset.toString(16)}UL)`
    : `(${base} - 0x${(-p.offset).toString(16)}UL)`;
}

/** The C variables a step binds: an address, a memfd, a child's pid. */
export function cBinds(call: StepCall): { addr?: string; file?: string; kid?: string } {
  switch (call.op) {
    case 'map':
    case 'mremap':
      return call.bind === undefined ? {} : { addr: call.bind };
    case 'memfd':
      return { file: call.bind };
    case 'fork':
      return call.bind === undefined ? {} : { kid: call.bind };
    default:
      return {};
  }
}

/**
 * Step `i` as C statements that leave the result in `r` and call check() with `what` (how
 * the step reads) and `exp` (the model's expectation, as export-c.ts writes it).
 */
export function stepC(call: StepCall, i: number, what: string, exp: string): string[] {
  const done = (ret: string) => [`  check(${i}, ${cString(what)}, ${ret}, ${exp});`];
  const at = 'at' in call ? cAddr(call.at) : '';
  switch (call.op) {
    case 'map': {
      const fd = call.file !== undefined ? cIdent(call.file) : '-1';
      const out = [
        `  r = syscall(SYS_mmap, ${at}, ${ul(call.length)}, ${call.prot}, 0x${call.flags.toString(16)}, ${fd}, ${ul(call.offset)});`,
      ];
      if (call.bind) out.push(`  if (r != -1) ${cIdent(call.bind)} = (unsigned long)r;`);
      return [...out, ...done('r')];
    }
    case 'memfd':
      return [...fileC(call), ...done('r')];
    case 'munmap':
      return [`  r = syscall(SYS_munmap, ${at}, ${ul(call.length)});`, ...done('r')];
    case 'mseal':
      return [`  r = syscall(462, ${at}, ${ul(call.length)}, 0UL);`, ...done('r')];
    case 'munlock':
      return [`  r = syscall(SYS_munlock, ${at}, ${ul(call.length)});`, ...done('r')];
    case 'mlock':
      return [`  r = syscall(325, ${at}, ${ul(call.length)}, ${call.flags});`, ...done('r')];
    case 'uffd':
      return [
        `  r = uffd_register(${at}, ${ul(call.length)}, ${call.mode}, ${call.features ?? -1});`,
        ...done('r'),
      ];
    case 'mprotect':
      return [
        `  r = syscall(SYS_mprotect, ${at}, ${ul(call.length)}, ${call.prot});`,
        ...done('r'),
      ];
    case 'madvise':
      return [
        `  r = syscall(SYS_madvise, ${at}, ${ul(call.length)}, ${call.advice});`,
        ...done('r'),
      ];
    case 'mremap': {
      const to = call.to === undefined ? '0UL' : cAddr(call.to);
      const out = [
        `  r = syscall(SYS_mremap, ${at}, ${ul(call.oldLen)}, ${ul(call.newLen)}, 0x${call.flags.toString(16)}UL, ${to});`,
      ];
      if (call.bind) out.push(`  if (r != -1) ${cIdent(call.bind)} = (unsigned long)r;`);
      return [...out, ...done('r')];
    }
    case 'touch':
      return [
        `  r = touch_pages(${at}, ${call.pages}, 0x${call.tag.toString(16)}UL);`,
        ...done('r'),
      ];
    case 'read':
      return [`  r = read_pages(${at}, ${call.pages});`, ...done('r')];
    case 'fork':
      if (!call.continue)
        return [
          `  r = fork();`,
          `  if (r == 0) { for (;;) pause(); }`,
          `  if (r > 0) { idle[nidle++] = (pid_t)r;${call.bind ? ` ${cIdent(call.bind)} = (pid_t)r;` : ''} r = 0; }`,
          ...done('r'),
        ];
      return [
        `  r = fork();`,
        `  if (r > 0) { /* the remaining steps run in the child: its verdict is ours */`,
        `    int st = 0;`,
        `    waitpid((pid_t)r, &st, 0);`,
        `    kill_idle();`,
        `    return WIFEXITED(st) ? WEXITSTATUS(st) : 3;`,
        `  }`,
        // The parent's userfaultfd is the parent mm's: the child opens its own.
        `  if (r == 0) { nidle = 0; uffd = -1; r = 0; }`,
        ...done('r'),
      ];
    case 'release':
      return [
        `  r = kill(${cIdent(call.child)}, SIGKILL) == 0 && waitpid(${cIdent(call.child)}, NULL, 0) > 0 ? 0 : -1;`,
        `  forget_idle(${cIdent(call.child)});`,
        ...done('r'),
      ];
    case 'check':
      return [`  r = 0;`, ...done('r')];
  }
}

/**
 * A memfd (ftruncate, then a pwrite per tag) or a disk file (mkstemp in TMPDIR, unlinked,
 * every page written, fsync), its fd in the name's variable and 0 or -1 in `r`.
 */
function fileC(call: Extract<StepCall, { op: 'memfd' }>): string[] {
  const fd = cIdent(call.bind);
  const size = `0x${call.size.toString(16)}L`;
  const tags = [...call.contents].map(([p, t]) => `[${p}] = ${ul(t)}`).join(', ');
  const pages = (call.size + 4095n) / 4096n;
  if (!call.disk)
    return [
      `  r = syscall(SYS_memfd_create, "mremap-lab", 0);`,
      `  if (r != -1) { ${fd} = (int)r; if (ftruncate((int)r, ${size}) != 0) r = -1; else r = 0; }`,
      ...[...call.contents].map(
        ([p, t]) =>
          `  if (r == 0) { unsigned long t = ${ul(t)}; if (pwrite(${fd}, &t, 8, ${p * 4096}L) != 8) r = -1; }`,
      ),
    ];
  return [
    `  {`,
    `    static unsigned long tags[${pages} + 1] = { ${tags} };`,
    `    static char path[4096], page[4096];`,
    `    snprintf(path, sizeof path, "%s/mremap-lab-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");`,
    `    r = mkstemp(path);`,
    `    if (r != -1) { ${fd} = (int)r; unlink(path); r = 0; }`,
    `    for (long p = 0; r == 0 && p < ${pages}L; p++) {`,
    `      long n = ${size} - p * 4096L < 4096L ? ${size} - p * 4096L : 4096L;`,
    `      memcpy(page, &tags[p], 8);`,
    `      if (pwrite(${fd}, page, (size_t)n, p * 4096L) != n) r = -1;`,
    `    }`,
    `    if (r == 0 && fsync(${fd}) != 0) r = -1;`,
    `  }`,
  ];
}
