/**
 * The stack guard gap this kernel keeps below VM_GROWSDOWN VMAs (mm/mmap.c stack_guard_gap:
 * 256 pages unless the command line says `stack_guard_gap=N`, in pages), and the stack
 * rlimit that bounds how far such a VMA grows (acct_stack_growth).
 */
import fs from 'node:fs';

export const DEFAULT_STACK_GUARD_GAP = 256;

/** `stack_guard_gap=N` from a kernel command line (the last one wins, as __setup parses in order). */
export function parseStackGuardGap(cmdline: string): number {
  let gap = DEFAULT_STACK_GUARD_GAP;
  for (const w of cmdline.split(/\s+/)) {
    if (w === '--') break; // what follows goes to init, not to the kernel
    const m = /^stack_guard_gap=(\d+)$/.exec(w);
    if (m) gap = Number(m[1]);
  }
  return gap;
}

let cached: number | undefined;

/** This kernel's gap in pages, read once from /proc/cmdline. */
export function stackGuardGap(): number {
  if (cached === undefined) {
    let line = '';
    try {
      line = fs.readFileSync('/proc/cmdline', 'utf8');
    } catch {
      // No /proc/cmdline: the built-in default.
    }
    cached = parseStackGuardGap(line);
  }
  return cached;
}

/** RLIMIT_STACK's soft limit in bytes from /proc/self/limits; null when unlimited or unknown. */
export function rlimitStack(): bigint | null {
  try {
    const m = /^Max stack size\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m && /^\d+$/.test(m[1]!) ? BigInt(m[1]!) : null;
  } catch {
    return null;
  }
}
