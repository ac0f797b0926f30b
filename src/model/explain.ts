/**
 * explain: run one mremap() in a fresh model and report the decision path (each check in
 * order) and the page-table move plan. Pure; the CLI wrapper is src/cli/explain.ts.
 */
import { DEFAULT_TRAITS, describeTraits, type ModelTraits } from './traits.js';
import { MADV, MAP, MREMAP, PROT, mremapFlagNames } from '../space/constants.js';
import { formatResult, type Result } from '../space/result.js';
import { ModelSpace } from './address-space.js';
import type { MovePlan } from './page-tables.js';
import { getProfile, type Profile } from './profiles.js';
import type { MergeRecord, TraceEntry } from './trace.js';

export interface LayoutEntry {
  start: bigint;
  end: bigint;
  prot: number;
  shared: boolean;
  /** Write-fault every page before the call. */
  faulted: boolean;
  /** MADV_HUGEPAGE before faulting (THP-backed where aligned). */
  thp: boolean;
}

export interface ExplainInput {
  profile: string | Profile;
  old: bigint;
  new: bigint;
  len: bigint;
  /** Defaults to len. */
  newLen?: bigint;
  /** Defaults to MAYMOVE|FIXED. */
  flags?: bigint;
  /** Defaults to one populated RW anonymous VMA exactly [old, old+len). */
  layout?: LayoutEntry[];
  /** Behaviour traits of the kernel being explained (default DEFAULT_TRAITS). */
  traits?: Partial<ModelTraits>;
}

export interface ExplainResult {
  profile: string;
  /** The traits in force (describeTraits). */
  traits: string;
  call: { addr: bigint; oldLen: bigint; newLen: bigint; flags: bigint; newAddr: bigint };
  layout: LayoutEntry[];
  result: Result<bigint>;
  checks: TraceEntry[];
  plans: MovePlan[];
  /** Each neighbour pair the call's merges looked at: merged or not, and why. */
  merges: MergeRecord[];
  /** VMAs after the call, 'start-end prot'. */
  after: string[];
}

export class LayoutSyntaxError extends Error {
  constructor(
    message: string,
    /** The layout was the default one, [old, old + len), not one the caller gave. */
    readonly defaultLayout = false,
    /** The model's errno when an entry could not be mapped. */
    readonly code?: string,
  ) {
    super(message);
  }
}

const PROT_CHARS: Record<string, number> = { r: PROT.READ, w: PROT.WRITE, x: PROT.EXEC };

/**
 * Parses `START-END[:PROT][:faulted|:unfaulted][:thp][:shared]` entries separated by commas,
 * e.g. `0x1fff000-0x2200000:rw:faulted,0x3000000-0x3200000:r`. PROT is any of `rwx` or `-`
 * (PROT_NONE); the default is `rw`, faulted.
 */
export function parseLayout(spec: string): LayoutEntry[] {
  const out: LayoutEntry[] = [];
  for (const [i, raw] of spec.split(',').entries()) {
    const item = raw.trim();
    if (item === '') continue;
    const [range, ...attrs] = item.split(':');
    const m = /^(0x[0-9a-f]+|\d+)-(0x[0-9a-f]+|\d+)$/i.exec(range ?? '');
    if (m === null) {
      throw new LayoutSyntaxError(
        `layout entry ${i + 1} '${item}': expected START-END (hex or decimal), e.g. 0x1fff000-0x2200000:rw:faulted`,
      );
    }
    const start = BigInt(m[1]!);
    const end = BigInt(m[2]!);
    if (end <= start || start % 4096n !== 0n || end % 4096n !== 0n) {
      throw new LayoutSyntaxError(
        `layout entry ${i + 1} '${item}': START and END must be page aligned with START < END`,
      );
    }
    const e: LayoutEntry = {
      start,
      end,
      prot: PROT.READ | PROT.WRITE,
      shared: false,
      faulted: true,
      thp: false,
    };
    for (const a of attrs) {
      if (a === 'faulted') e.faulted = true;
      else if (a === 'unfaulted') e.faulted = false;
      else if (a === 'thp') e.thp = true;
      else if (a === 'shared') e.shared = true;
      else if (/^[rwx-]+$/.test(a)) {
        e.prot = [...a].reduce((p, c) => p | (PROT_CHARS[c] ?? 0), 0);
      } else {
        throw new LayoutSyntaxError(
          `layout entry ${i + 1} '${item}': unknown attribute '${a}' (use rwx/-, faulted, unfaulted, thp, shared)`,
        );
      }
    }
    out.push(e);
  }
  return out;
}

/** Runs the call on a fresh model laid out as described. */
export function explainRemap(input: ExplainInput): ExplainResult {
  const profile = typeof input.profile === 'string' ? getProfile(input.profile) : input.profile;
  const layout = input.layout ?? [
    {
      start: input.old,
      end: input.old + input.len,
      prot: PROT.READ | PROT.WRITE,
      shared: false,
      faulted: true,
      thp: false,
    },
  ];
  const traits: ModelTraits = { ...DEFAULT_TRAITS, ...input.traits };
  const s = new ModelSpace({ profile, traits });
  for (const l of layout) {
    const flags = (l.shared ? MAP.SHARED : MAP.PRIVATE) | MAP.ANONYMOUS | MAP.FIXED;
    const r = s.map({ addr: l.start, length: l.end - l.start, prot: l.prot, flags });
    if (!r.ok)
      throw new LayoutSyntaxError(
        `cannot map layout entry 0x${l.start.toString(16)}: ${r.code}`,
        input.layout === undefined,
        r.code,
      );
    if (l.thp) s.advise(l.start, l.end - l.start, MADV.HUGEPAGE);
    if (l.faulted && (l.prot & PROT.WRITE) !== 0) {
      for (let a = l.start; a < l.end; a += 4096n) s.touch(a, a);
    }
  }
  const call = {
    addr: input.old,
    oldLen: input.len,
    newLen: input.newLen ?? input.len,
    flags: input.flags ?? MREMAP.MAYMOVE | MREMAP.FIXED,
    newAddr: input.new,
  };
  const result = s.remap(call);
  const t = s.lastTrace;
  const after = s
    .snapshot(0n, 1n << 47n, { pages: false })
    .vmas.map((v) => `0x${v.start.toString(16)}-0x${v.end.toString(16)} ${v.prot}`);
  return {
    profile: profile.name,
    traits: describeTraits(traits),
    call,
    layout,
    result,
    checks: t.entries,
    plans: t.plans,
    merges: t.merges,
    after,
  };
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

function size(n: number): string {
  if (n >= 0x40000000 && n % 0x40000000 === 0) return `${n / 0x40000000} GiB`;
  if (n >= 0x100000 && n % 0x100000 === 0) return `${n / 0x100000} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

/** One line per neighbour pair: who asked, the two VMAs, merged or not and the kernel's reason. */
export function formatMerges(merges: readonly MergeRecord[]): string[] {
  if (merges.length === 0) return ['neighbour pairs: none adjacent'];
  return [
    'neighbour pairs:',
    ...merges.map(
      (m) =>
        `  ${m.caller}: ${hex(m.lower.start)}-${hex(m.lower.end)} | ${hex(m.upper.start)}-${hex(m.upper.end)} ${m.merged ? 'merged' : 'not merged'} — ${m.why}`,
    ),
  ];
}

/** Human-readable rendering: each check, the outcome, then each page-table extent. */
export function formatExplain(x: ExplainResult): string {
  const c = x.call;
  const lines: string[] = [];
  lines.push(
    `mremap(${hex(c.addr)}, ${hex(c.oldLen)}, ${hex(c.newLen)}, ${mremapFlagNames(c.flags)}, ${hex(c.newAddr)}) on model ${x.profile}`,
  );
  lines.push(`traits: ${x.traits}`);
  lines.push('layout before:');
  for (const l of x.layout) {
    lines.push(
      `  ${hex(l.start)}-${hex(l.end)} ${l.shared ? 'shared' : 'private'}${l.faulted ? ' faulted' : ''}${l.thp ? ' thp' : ''}`,
    );
  }
  lines.push('decision path:');
  x.checks.forEach((e, i) => {
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${e.step} → ${e.result}${e.detail !== undefined ? ` (${e.detail})` : ''}`,
    );
  });
  lines.push(`result: ${formatResult(x.result)}`);
  lines.push(...formatMerges(x.merges));
  for (const p of x.plans) {
    lines.push(
      `page-table plan: move_page_tables(old=${hex(p.oldAddr)}, new=${hex(p.newAddr)}, len=${hex(p.len)})`,
    );
    lines.push(
      `  realignment: ${p.realigned ? `yes, walk starts ${hex(p.walkOld)} → ${hex(p.walkNew)}` : 'no'} — ${p.realignReason}`,
    );
    lines.push('  level      old           new           size       PTEs  note');
    for (const e of p.extents) {
      const lvl = e.level === 'skip' ? `skip-${e.skipped ?? ''}` : e.level;
      const note = [e.thpSplit ? 'THP split' : '', e.fallback ?? '']
        .filter((s) => s !== '')
        .join('; ');
      lines.push(
        `  ${lvl.padEnd(10)} ${hex(e.oldAddr).padEnd(13)} ${hex(e.newAddr).padEnd(13)} ${size(e.size).padEnd(10)} ${String(e.ptes).padStart(4)}  ${note}`,
      );
    }
    const cnt = p.counts;
    lines.push(
      `  totals: ${cnt.pud} PUD, ${cnt['huge-pmd']} huge-PMD, ${cnt.pmd} PMD, ${cnt.pte} PTE-level moves (${p.ptesMoved} PTEs), ${cnt.skip} skipped`,
    );
    for (const w of p.warnings) lines.push(`  warning: ${w}`);
  }
  lines.push('layout after:');
  for (const a of x.after) lines.push(`  ${a}`);
  return lines.map((l) => l.trimEnd()).join('\n');
}

/** JSON-safe form (bigints as hex strings). */
export function explainToJson(x: ExplainResult): unknown {
  return JSON.parse(
    JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)),
  );
}
