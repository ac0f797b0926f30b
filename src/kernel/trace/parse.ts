/**
 * Trace text (the `trace` file of a tracefs instance) → the calls move_page_tables() made.
 * Pure, so captured traces are test fixtures.
 */
import type { TargetName } from './targets.js';

export interface TraceEvent {
  pid: number;
  /** Event name without the group: move_ptes, move_normal_pmd__ret, … */
  event: string;
  fields: Record<string, bigint>;
}

const LINE = /^\s*.*?-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[\d+\].*?\s\d+\.\d+: (\w+): \([^)]*\)\s*(.*)$/;

export function parseTraceText(text: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const fields: Record<string, bigint> = {};
    for (const kv of m[3]!.trim().split(/\s+/)) {
      const eq = kv.indexOf('=');
      if (eq <= 0) continue;
      const v = kv.slice(eq + 1);
      if (/^(0x[0-9a-f]+|\d+)$/i.test(v)) fields[kv.slice(0, eq)] = BigInt(v);
    }
    out.push({ pid: Number(m[1]), event: m[2]!, fields });
  }
  return out;
}

/** One traced call of a table/leaf mover: where, and whether it moved (null: return not traced). */
export interface EntryMove {
  old: bigint | null;
  moved: boolean | null;
}

export interface PteExtent {
  old: bigint | null;
  end: bigint | null;
}

/** A callee event inside the walk, in order (see targets.ts for why they stand in). */
export type CalleeEvent =
  | { kind: 'batch' }
  | { kind: 'flush'; start: bigint | null; end: bigint | null; stride: bigint | null };

type Mover = Exclude<
  TargetName,
  'move_page_tables' | 'move_ptes' | 'flush_tlb_batched_pending' | 'flush_tlb_mm_range'
>;

/** What one move_page_tables() walk did, as traced. */
export interface TracedWalk {
  old: bigint | null;
  new: bigint | null;
  len: bigint | null;
  /** Its return value: bytes moved. */
  moved: bigint | null;
  calls: Record<Mover, EntryMove[]>;
  ptes: PteExtent[];
  callees: CalleeEvent[];
}

/** A walk with nothing traced yet (also the tests' base). */
export function emptyWalk(): TracedWalk {
  return {
    old: null,
    new: null,
    len: null,
    moved: null,
    calls: {
      move_normal_pmd: [],
      move_normal_pud: [],
      move_huge_pmd: [],
      move_huge_pud: [],
      __split_huge_pmd: [],
      try_realign_addr: [],
    },
    ptes: [],
    callees: [],
  };
}

/**
 * Groups events by walk: a move_page_tables entry opens one, its return closes it. A
 * function's __ret event belongs to the latest call of it (one thread: calls do not
 * interleave). Events outside a walk (a THP split elsewhere in the call) are dropped.
 */
export function walksOf(events: readonly TraceEvent[], pid?: number): TracedWalk[] {
  const walks: TracedWalk[] = [];
  let cur: TracedWalk | null = null;
  for (const e of events) {
    if (pid !== undefined && e.pid !== pid) continue;
    const ret = e.event.endsWith('__ret');
    const fn = ret ? e.event.slice(0, -'__ret'.length) : e.event;
    if (fn === 'move_page_tables') {
      if (!ret) {
        cur = emptyWalk();
        cur.old = e.fields.old ?? null;
        cur.new = e.fields.new ?? null;
        cur.len = e.fields.len ?? null;
        walks.push(cur);
      } else if (cur !== null) {
        cur.moved = e.fields.ret ?? null;
        cur = null;
      }
      continue;
    }
    if (cur === null) continue;
    if (fn === 'flush_tlb_batched_pending') {
      cur.callees.push({ kind: 'batch' });
      continue;
    }
    if (fn === 'flush_tlb_mm_range') {
      const f = e.fields;
      cur.callees.push({
        kind: 'flush',
        start: f.start ?? null,
        end: f.end ?? null,
        stride: f.stride ?? null,
      });
      continue;
    }
    if (fn === 'move_ptes') {
      if (!ret) cur.ptes.push({ old: e.fields.old ?? null, end: e.fields.end ?? null });
      continue;
    }
    const list = (cur.calls as Record<string, EntryMove[] | undefined>)[fn];
    if (list === undefined) continue;
    if (!ret) list.push({ old: e.fields.old ?? e.fields.addr ?? null, moved: null });
    else if (list.length > 0) list[list.length - 1]!.moved = (e.fields.ret ?? 0n) !== 0n;
  }
  return walks;
}
