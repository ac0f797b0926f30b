/**
 * What this kernel lets us observe of move_page_tables(): per target function, whether it
 * is a symbol at all (/proc/kallsyms; static functions that were inlined are not), whether
 * ftrace lists it (available_filter_functions), and whether kprobe_events accepts a probe on
 * it (the only test that counts: a probe is created and removed again at once).
 */
import fs from 'node:fs';
import { argsApply, TARGETS, type TargetName } from './targets.js';
import { ensureTracefs, readTrace, writeTrace } from './tracefs.js';

export const GROUP = 'mremap_lab';

export interface TargetStatus {
  fn: TargetName;
  /** The symbol a probe goes on: the function, or a compiler clone (move_ptes.constprop.0). */
  symbol: string | null;
  inKallsyms: boolean;
  /** null when available_filter_functions could not be read. */
  inFilterFunctions: boolean | null;
  /** 'ok', or why kprobe_events refused the probe. */
  kprobe: string;
  /** Whether the probe fetches arguments (exact symbol on 6.1–6.15), else it only counts. */
  withArgs: boolean;
}

export interface TracerStatus {
  release: string;
  tracefs: string | null;
  /** Why tracing as a whole cannot be used, or null. */
  problem: string | null;
  lockdown: string | null;
  kptrRestrict: string | null;
  filterFunctions: string;
  kprobeEvents: string;
  targets: TargetStatus[];
  /** The method that will be used, in words. */
  method: string;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Symbol names from /proc/kallsyms text: each name, clones (name.isra.0) under their base. */
export function kallsymsIndex(text: string, wanted: readonly string[]): Map<string, string> {
  const want = new Set(wanted);
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const name = line.split(/\s+/)[2];
    if (name === undefined) continue;
    const base = name.split('.')[0]!;
    if (!want.has(base)) continue;
    // The exact symbol wins over a clone.
    if (name === base || !found.has(base)) found.set(base, name);
  }
  return found;
}

export function filterFunctionSet(text: string): Set<string> {
  const s = new Set<string>();
  for (const line of text.split('\n')) {
    const name = line.split(/\s+/)[0];
    if (name) s.add(name);
  }
  return s;
}

/** Event names may not hold dots. */
export function eventName(fn: string, ret: boolean): string {
  return `${fn.replace(/[^A-Za-z0-9_]/g, '_')}${ret ? '__ret' : ''}`;
}

/** Creates and at once removes one probe: kprobe_events' verdict on the symbol. */
function tryProbe(dir: string, symbol: string, fn: string): string {
  const ev = `${eventName(fn, false)}__check`;
  const w = writeTrace(dir, 'kprobe_events', `p:${GROUP}/${ev} ${symbol}\n`, true);
  if (!w.ok) {
    const log = readTrace(dir, 'error_log');
    const last = log.ok ? log.value.trim().split('\n').slice(-2).join(' ').trim() : '';
    return `kprobe_events refused it (${w.code}${last ? `: ${last}` : ''})`;
  }
  writeTrace(dir, 'kprobe_events', `-:${GROUP}/${ev}\n`, true);
  return 'ok';
}

export function discoverTracer(release: string): TracerStatus {
  const lockdown = readText('/sys/kernel/security/lockdown');
  const kptrRestrict = readText('/proc/sys/kernel/kptr_restrict');
  const base = {
    release,
    lockdown,
    kptrRestrict,
    filterFunctions: 'not read',
    kprobeEvents: 'not checked',
  };
  const t = ensureTracefs();
  const kallsyms = readText('/proc/kallsyms') ?? '';
  const syms = kallsymsIndex(
    kallsyms,
    TARGETS.map((x) => x.fn),
  );
  if (!t.ok) {
    return {
      ...base,
      tracefs: null,
      problem: `tracefs unavailable: ${t.code}`,
      targets: TARGETS.map((x) => ({
        fn: x.fn,
        symbol: syms.get(x.fn) ?? null,
        inKallsyms: syms.has(x.fn),
        inFilterFunctions: null,
        kprobe: 'no tracefs',
        withArgs: false,
      })),
      method: 'none',
    };
  }
  const dir = t.value;
  const aff = readTrace(dir, 'available_filter_functions');
  const filter = aff.ok ? filterFunctionSet(aff.value) : null;
  const filterFunctions = aff.ok
    ? `readable (${filter!.size} functions)`
    : `not readable (${aff.code}${aff.code === 'EPERM' ? ': ftrace refuses to list functions' : ''})`;
  const hasKprobeEvents = fs.existsSync(`${dir}/kprobe_events`);
  const kprobeEvents = hasKprobeEvents
    ? 'present'
    : 'absent from tracefs (CONFIG_KPROBE_EVENTS not built in)';
  const argsOk = argsApply(release);
  const targets: TargetStatus[] = TARGETS.map((x) => {
    const symbol = syms.get(x.fn) ?? null;
    const inFilterFunctions = filter === null ? null : symbol !== null && filter.has(symbol);
    let kprobe: string;
    if (!hasKprobeEvents) kprobe = 'no kprobe_events';
    else if (symbol === null) kprobe = 'not a symbol (inlined or absent)';
    else kprobe = tryProbe(dir, symbol, x.fn);
    return {
      fn: x.fn,
      symbol,
      inKallsyms: symbol !== null,
      inFilterFunctions,
      kprobe,
      withArgs: kprobe === 'ok' && argsOk && symbol === x.fn,
    };
  });
  const usable = targets.filter((x) => x.kprobe === 'ok');
  let problem: string | null = null;
  if (!hasKprobeEvents) problem = kprobeEvents;
  else if (!targets.some((x) => x.fn === 'move_page_tables' && x.kprobe === 'ok'))
    problem = `move_page_tables cannot be probed: ${targets[0]!.kprobe}`;
  return {
    ...base,
    tracefs: dir,
    problem,
    filterFunctions,
    kprobeEvents,
    targets,
    method:
      problem === null
        ? `kprobe events in tracefs (${dir}) on ${usable.map((x) => x.symbol).join(', ')}; one trace instance, filtered to the calling pid, cleared before and read after the call`
        : 'none',
  };
}
