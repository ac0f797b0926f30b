/**
 * The command line of a command that runs itself again elsewhere (in vm guests): its own
 * arguments, without the options that only the outer run understands. No imports, so it
 * sits below every command module.
 */
import type { Command } from 'commander';

/** Options that configure the guests (name → takes a value), not the inner command. */
export const GUEST_OPTIONS: Record<string, boolean> = {
  '--kernel': true,
  '--modules': true,
  '--config': true,
  '--mem': true,
  '--cpus': true,
  '--vm-timeout': true,
  '--accel': true,
  '--keep': false,
};

/** argv without the named options (both "--opt v" and "--opt=v" forms); after "--" untouched. */
export function stripOptions(argv: string[], drop: Record<string, boolean>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (name in drop) {
      if (drop[name] && !a.includes('=')) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * The command line from the top-level command's name on (commander keeps it as the
 * program's rawArgs), so a nested command (`trace matrix`) keeps its parent's name.
 */
export function commandArgs(cmd: Command): string[] {
  let top = cmd;
  while (top.parent?.parent) top = top.parent;
  const raw = (top.parent as unknown as { rawArgs: string[] }).rawArgs;
  return raw.slice(raw.indexOf(top.name()));
}
