/**
 * The fuzzer's generator. fast-check generates *abstract* operations: small integers that
 * say "the start of the 3rd VMA, one page below" or "the next PMD boundary", never raw
 * addresses. A realizer turns them into concrete scenario steps (`@N` arena-relative
 * addresses) by replaying them on a shadow model, so addresses land on the interesting
 * places of the layout as it is at that point: VMA edges, just below and above, PMD
 * boundaries, mutually aligned offsets, overlapping ranges, the arena edge.
 *
 * Why abstract: fast-check shrinks the abstract values (drop ops, move an integer towards 0)
 * and every shrunk candidate still realizes to a valid, confined step list — the same
 * `Step` objects then drive ScenarioRunner, serialize as the regression JSON and feed the C
 * exporter. The shadow is a ModelSpace of the same profile; when the real model and the
 * kernel agree (the only case in which later steps run), the shadow saw the same layout.
 */
import fc from 'fast-check';
import type { ProbeResult } from '../../kernel/probe.js';
import type { ModelTraits } from '../../model/traits.js';
import type { ModelSpace } from '../../model/address-space.js';
import type { Profile } from '../../model/profiles.js';
import { MREMAP, PAGE_SIZE } from '../../space/constants.js';
import { ScenarioInputError } from '../address.js';
import { newModel } from '../execute.js';
import { decodeStep, kernelPlaces } from '../steps/decode.js';
import { executeStep, type StepContext } from '../steps/execute.js';
import type { MappingKind, MapStep, MremapStep, Step } from '../types.js';

/** Where an address goes, relative to the layout at that point. */
export interface APick {
  /** 0 VMA start, 1 VMA end, 2 PMD boundary, 3 arena edge, 4 anywhere, 5 VMA middle. */
  anchor: number;
  /** Which VMA / boundary / page (taken modulo the choices). */
  i: number;
  /** Pages added: just below (-1, -2) or above (+1, +2). */
  d: number;
}

/**
 * A length: 0 to the end of the VMA at `at` (+d), 1 small (1..4), 2 anything in the arena,
 * 3 to the end of the n-th VMA after the one at `at` (+d): ranges over several VMAs that stop
 * on, just before or just past an edge.
 */
export interface ALen {
  mode: number;
  n: number;
  d: number;
}

export type AOp =
  | {
      t: 'map';
      at: APick;
      len: ALen;
      prot: number;
      kind: number;
      noreserve: boolean;
      populate: boolean;
      placement: number;
      offset: number;
    }
  | { t: 'munmap'; at: APick; len: ALen }
  | { t: 'mprotect'; at: APick; len: ALen; prot: number }
  | { t: 'madvise'; at: APick; len: ALen; advice: number }
  | { t: 'touch'; at: APick; pages: number }
  | { t: 'read'; at: APick; pages: number }
  | {
      t: 'mremap';
      at: APick;
      oldLen: ALen;
      /** 0 same as old, 1 shrink by k, 2 grow by k, 3 independent, 4 zero old_len. */
      rel: number;
      k: number;
      /** Low 3 bits: MAYMOVE/FIXED/DONTUNMAP; `extra` ORs in other bits. */
      flags: number;
      extra: number;
      /** 0 a pick, 1 overlapping the source, 2 mutually aligned with the source. */
      toMode: number;
      to: APick;
      /** 0 none; 1 misaligned addr; 2 new_len 0; 3 new_len -1; 4 misaligned new_addr. */
      bad: number;
    }
  | { t: 'mseal' | 'munlock' | 'uffd'; at: APick; len: ALen }
  | { t: 'mlock'; at: APick; len: ALen; onfault: boolean }
  | { t: 'fork' }
  | { t: 'fork-continue' }
  | { t: 'release'; i: number };

export type OpKind = AOp['t'];

export const OP_KINDS: readonly OpKind[] = [
  'map',
  'munmap',
  'mprotect',
  'madvise',
  'touch',
  'read',
  'mremap',
  'mseal',
  'mlock',
  'munlock',
  'uffd',
  'fork',
  'fork-continue',
  'release',
];

/** Default op mix (relative weights); `--weights mremap=20,fork=0` overrides. */
export const DEFAULT_WEIGHTS: Readonly<Record<OpKind, number>> = {
  map: 8,
  munmap: 3,
  mprotect: 3,
  madvise: 2,
  touch: 6,
  read: 2,
  mremap: 14,
  mseal: 1,
  mlock: 2,
  munlock: 1,
  uffd: 1,
  fork: 1,
  'fork-continue': 1,
  release: 1,
};

export const PROTS = ['rw', 'r', 'none', 'rwx', 'rw', 'rw'];
const KINDS: MappingKind[] = ['anon', 'anon', 'anon', 'shared', 'memfd', 'memfd-private'];
/**
 * madvise advices whose effect is deterministic without memory pressure. PAGEOUT is too on a
 * machine without swap (the model's assumption: it never writes anonymous pages out).
 */
export const ADVICES: (string | number)[] = [
  'DONTNEED',
  'POPULATE_WRITE',
  'POPULATE_READ',
  'FREE',
  'REMOVE',
  'PAGEOUT',
  'MERGEABLE',
  'UNMERGEABLE',
  'GUARD_INSTALL',
  'GUARD_REMOVE',
  'COLLAPSE',
  'DONTDUMP',
  'HUGEPAGE',
  'NOHUGEPAGE',
  'DONTFORK',
  'DOFORK',
  'WIPEONFORK',
  'KEEPONFORK',
  'NORMAL',
  'RANDOM',
  'SEQUENTIAL',
  'WILLNEED',
  'COLD',
  'DONTNEED_LOCKED',
  999,
];
/** Bits beyond MAYMOVE|FIXED|DONTUNMAP: RELOCATE_ANON (8), MUST_RELOCATE_ANON (16), unknown ones. */
// Bits 32 and 63 too: mremap's flags are an unsigned long, and a bit JavaScript's 32-bit
// `|` would drop must still reach both sides.
const EXTRA_BITS = [
  0n,
  0n,
  0n,
  0n,
  0n,
  0n,
  8n,
  16n,
  24n,
  32n,
  64n,
  128n,
  0x100n,
  0x40000000n,
  1n << 32n,
  1n << 63n,
];

const pick = (): fc.Arbitrary<APick> =>
  fc.record({
    anchor: fc.nat({ max: 5 }),
    i: fc.nat({ max: 63 }),
    d: fc.integer({ min: -2, max: 2 }),
  });

const len = (): fc.Arbitrary<ALen> =>
  fc.record({
    mode: fc.nat({ max: 3 }),
    n: fc.nat({ max: 63 }),
    d: fc.integer({ min: -2, max: 2 }),
  });

function opArb(kind: OpKind): fc.Arbitrary<AOp> {
  switch (kind) {
    case 'map':
      return fc.record({
        t: fc.constant('map' as const),
        at: pick(),
        len: len(),
        prot: fc.nat({ max: PROTS.length - 1 }),
        kind: fc.nat({ max: KINDS.length - 1 }),
        noreserve: fc.boolean(),
        populate: fc.integer({ min: 0, max: 9 }).map((x) => x === 9),
        placement: fc.integer({ min: 0, max: 19 }),
        offset: fc.nat({ max: 63 }),
      });
    case 'munmap':
      return fc.record({ t: fc.constant('munmap' as const), at: pick(), len: len() });
    case 'mprotect':
      return fc.record({
        t: fc.constant('mprotect' as const),
        at: pick(),
        len: len(),
        prot: fc.nat({ max: PROTS.length - 1 }),
      });
    case 'madvise':
      return fc.record({
        t: fc.constant('madvise' as const),
        at: pick(),
        len: len(),
        advice: fc.nat({ max: ADVICES.length - 1 }),
      });
    case 'touch':
    case 'read':
      return fc.record({
        t: fc.constant(kind),
        at: pick(),
        pages: fc.integer({ min: 1, max: 8 }),
      });
    case 'mremap':
      return fc.record({
        t: fc.constant('mremap' as const),
        at: pick(),
        oldLen: len(),
        rel: fc.nat({ max: 4 }),
        k: fc.integer({ min: 1, max: 16 }),
        // MAYMOVE is set in 3 of 4 draws: most interesting paths need it.
        flags: fc.nat({ max: 15 }).map((x) => (x & 6) | (x & 8 ? x & 1 : 1)),
        extra: fc.nat({ max: EXTRA_BITS.length - 1 }),
        toMode: fc.nat({ max: 2 }),
        to: pick(),
        bad: fc.integer({ min: 0, max: 24 }).map((x) => (x > 4 ? 0 : x)),
      });
    case 'mseal':
    case 'munlock':
    case 'uffd':
      return fc.record({ t: fc.constant(kind), at: pick(), len: len() });
    case 'mlock':
      return fc.record({
        t: fc.constant('mlock' as const),
        at: pick(),
        len: len(),
        onfault: fc.boolean(),
      });
    case 'fork':
    case 'fork-continue':
      return fc.constant({ t: kind });
    case 'release':
      return fc.record({ t: fc.constant('release' as const), i: fc.nat({ max: 3 }) });
  }
}

/** The op-sequence arbitrary for a given mix and length. */
export function opsArbitrary(
  weights: Readonly<Record<OpKind, number>>,
  maxOps: number,
): fc.Arbitrary<AOp[]> {
  const arbs = OP_KINDS.filter((k) => weights[k] > 0).map((k) => ({
    weight: weights[k],
    arbitrary: opArb(k),
  }));
  if (arbs.length === 0) throw new RangeError('every op weight is 0');
  return fc.array(fc.oneof(...arbs), { minLength: 1, maxLength: maxOps });
}

export interface RealizeContext {
  probe: ProbeResult;
  profile: Profile;
  traits?: ModelTraits;
  /** Arena pages. */
  pages: number;
}

/** A 1 GiB-aligned stand-in for the arena: only addresses modulo the alignment matter. */
const SHADOW_BASE = 0x3000_0000_0000n;
const PMD_PAGES = 512;

interface Shadow {
  /** The steps' own state on the shadow: names, the memfd, children, the current space. */
  ctx: StepContext;
  root: ModelSpace;
  inChild: boolean;
  /** Idle children not yet released, oldest first. */
  children: string[];
  memfd: boolean;
  forks: number;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/** VMAs inside the arena, in pages relative to it. */
function layout(sh: Shadow, pages: number): [number, number][] {
  const end = SHADOW_BASE + BigInt(pages) * PAGE_SIZE;
  const s = sh.ctx.space.snapshot(SHADOW_BASE, end, { pages: false });
  return s.vmas.map((v) => [
    clamp(Number((v.start - SHADOW_BASE) / PAGE_SIZE), 0, pages),
    clamp(Number((v.end - SHADOW_BASE) / PAGE_SIZE), 0, pages),
  ]);
}

function resolvePick(p: APick, vmas: [number, number][], pages: number): number {
  const n = vmas.length;
  let base: number;
  switch (n === 0 && (p.anchor <= 1 || p.anchor === 5) ? 4 : p.anchor) {
    case 0:
      base = vmas[p.i % n]![0];
      break;
    case 1:
      base = vmas[p.i % n]![1];
      break;
    case 5: {
      const v = vmas[p.i % n]!;
      base = v[0] + Math.floor((v[1] - v[0]) / 2);
      break;
    }
    case 2:
      base = (p.i % (Math.floor(pages / PMD_PAGES) + 1)) * PMD_PAGES;
      break;
    case 3:
      base = p.i % 2 === 0 ? 0 : pages;
      break;
    default:
      base = Math.floor((p.i * pages) / 64);
  }
  return base + p.d;
}

/** A length in pages for a range starting at `at`. */
function resolveLenPages(l: ALen, at: number, vmas: [number, number][], pages: number): number {
  let n: number;
  if (l.mode === 0) {
    const v = vmas.find(([s, e]) => s <= at && at < e);
    n = v ? v[1] - at + l.d : 1 + (l.n % 4);
  } else if (l.mode === 1) {
    n = 1 + (l.n % 4);
  } else if (l.mode === 3) {
    const i = vmas.findIndex(([, e]) => at < e);
    const v = i < 0 ? undefined : vmas[Math.min(vmas.length - 1, i + 1 + (l.n % 3))];
    n = v ? v[1] - at + l.d : 1 + (l.n % 4);
  } else {
    n = 1 + Math.floor((l.n * pages) / 64);
  }
  return n;
}

function rangeIn(at: number, n: number, pages: number): [number, number] {
  const a = clamp(at, 0, pages - 1);
  return [a, clamp(n, 1, pages - a)];
}

function flagList(bits: bigint, relocate: boolean): string[] {
  const out: string[] = [];
  if (bits & MREMAP.MAYMOVE) out.push('MAYMOVE');
  if (bits & MREMAP.FIXED) out.push('FIXED');
  if (bits & MREMAP.DONTUNMAP) out.push('DONTUNMAP');
  let rest = bits & ~7n;
  if (relocate) {
    if (rest & MREMAP.RELOCATE_ANON) out.push('RELOCATE_ANON');
    if (rest & MREMAP.MUST_RELOCATE_ANON) out.push('MUST_RELOCATE_ANON');
    rest &= ~(MREMAP.RELOCATE_ANON | MREMAP.MUST_RELOCATE_ANON);
  }
  // Hex string, not a JSON number: bits above 2^53 would not survive a number.
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

const at = (p: number, bytes = 0) => (bytes ? `@${p}+${bytes}b` : `@${p}`);

function realizeMremap(
  op: Extract<AOp, { t: 'mremap' }>,
  vmas: [number, number][],
  pages: number,
  relocate: boolean,
): MremapStep {
  let bits = BigInt(op.flags) | EXTRA_BITS[op.extra]!;
  const src = clamp(resolvePick(op.at, vmas, pages), 0, pages - 1);
  let oldLen = clamp(resolveLenPages(op.oldLen, src, vmas, pages), 1, pages - src);
  let newLen =
    op.rel === 0 || op.rel === 4
      ? oldLen
      : op.rel === 1
        ? Math.max(1, oldLen - op.k)
        : op.rel === 2
          ? oldLen + op.k
          : 1 + (op.k % 8);
  if (op.rel === 4) oldLen = 0;
  const fixed = (bits & MREMAP.FIXED) !== 0n;
  const newAddr = (bits & (MREMAP.FIXED | MREMAP.DONTUNMAP)) !== 0n;
  let to = 0;
  if (newAddr) {
    if (op.toMode === 1) to = src + op.to.d * 2 + (op.to.i % 3) - 1;
    else if (op.toMode === 2)
      to = (src % PMD_PAGES) + (op.to.i % (Math.floor(pages / PMD_PAGES) + 1)) * PMD_PAGES;
    else to = resolvePick(op.to, vmas, pages);
    to = clamp(to, 0, pages - 1);
    // The destination must stay in the arena (KernelSpace refuses anything else).
    newLen = clamp(newLen, 1, pages - to);
  }
  // Without FIXED the call may grow in place over [src, src + new_len): keep that inside.
  if (!fixed) newLen = clamp(newLen, 1, pages - src);
  if ((bits & MREMAP.DONTUNMAP) !== 0n && op.rel !== 3 && op.rel !== 4) {
    // DONTUNMAP needs equal lengths; keep most such draws valid so they reach the move.
    oldLen = Math.min(oldLen, newLen);
    newLen = oldLen;
  }
  const step: MremapStep = { op: 'mremap', at: at(src), oldLen, newLen };
  // Parameter errors the kernel rejects before it looks at any VMA pass confinement as they are.
  switch (op.bad) {
    case 1:
      step.at = at(src, 1 + op.k * 97);
      break;
    case 2:
      step.newLen = '0b';
      break;
    case 3:
      step.newLen = '-1b';
      break;
    case 4:
      if (newAddr) {
        bits |= MREMAP.MAYMOVE;
        step.to = at(to, 1 + op.k * 13);
      } else {
        // FIXED or DONTUNMAP without MAYMOVE, with any destination.
        bits = (bits & ~MREMAP.MAYMOVE) | (op.k % 2 ? MREMAP.FIXED : MREMAP.DONTUNMAP);
        step.to = at(to);
      }
      break;
  }
  const flags = flagList(bits, relocate);
  if (flags.length) step.flags = flags;
  if (newAddr && step.to === undefined) step.to = at(to);
  return step;
}

/**
 * Turns abstract ops into concrete steps, replaying them on a shadow model so every pick
 * sees the layout it would act on. Pure and deterministic: the same ops give the same steps.
 */
export function realize(ops: readonly AOp[], ctx: RealizeContext): Step[] {
  const pages = ctx.pages;
  const end = SHADOW_BASE + BigInt(pages) * PAGE_SIZE;
  // Unfixed placements land above the arena, as the kernel's do (top-down, far away).
  let outside = end + (1n << 30n);
  const hint = { next: null as bigint | null };
  const root = newModel(
    { probe: ctx.probe, profile: ctx.profile, ...(ctx.traits ? { traits: ctx.traits } : {}) },
    SHADOW_BASE,
    end,
    hint,
  );
  const sh: Shadow = {
    ctx: {
      space: root,
      arenaStart: SHADOW_BASE,
      names: new Map(),
      files: new Map(),
      children: new Map(),
      childSpace: (parent, id) => (parent as ModelSpace).child(id) ?? parent,
    },
    root,
    inChild: false,
    children: [],
    memfd: false,
    forks: 0,
  };
  const relocate = ctx.profile.relocateAnon !== null;
  const steps: Step[] = [];
  const emit = (s: Step): void => {
    steps.push(s);
    applyShadow(sh, s, steps.length - 1, () => {
      const a = outside;
      outside += 1n << 30n;
      hint.next = a;
    });
  };
  for (const op of ops) {
    let vmas = layout(sh, pages);
    switch (op.t) {
      case 'map': {
        const [a, n] = rangeIn(
          resolvePick(op.at, vmas, pages),
          resolveLenPages(op.len, 0, vmas, pages),
          pages,
        );
        let kind = KINDS[op.kind]!;
        if (kind.startsWith('memfd') && sh.inChild) kind = 'anon';
        const s: MapStep = { op: 'map', at: at(a), len: n };
        const prot = PROTS[op.prot]!;
        if (prot !== 'rw') s.prot = prot;
        if (kind !== 'anon') s.kind = kind;
        if (kind.startsWith('memfd')) {
          if (!sh.memfd) {
            emit({ op: 'memfd', name: 'f', pages: 2 * pages });
            sh.memfd = true;
          }
          s.file = 'f';
          s.offset = clamp(Math.floor((op.offset * pages) / 64), 0, 2 * pages - n);
        }
        if (op.noreserve) s.noreserve = true;
        if (op.populate) s.populate = true;
        if (op.placement === 19) s.placement = 'hint';
        else if (op.placement >= 17) s.placement = 'noreplace';
        emit(s);
        break;
      }
      case 'munmap':
      case 'mprotect':
      case 'madvise': {
        const p = clamp(resolvePick(op.at, vmas, pages), 0, pages - 1);
        const [a, n] = rangeIn(p, resolveLenPages(op.len, p, vmas, pages), pages);
        if (op.t === 'munmap') emit({ op: 'munmap', at: at(a), len: n });
        else if (op.t === 'mprotect')
          emit({ op: 'mprotect', at: at(a), len: n, prot: PROTS[op.prot]! });
        else emit({ op: 'madvise', at: at(a), len: n, advice: ADVICES[op.advice]! });
        break;
      }
      case 'mseal':
      case 'mlock':
      case 'munlock':
      case 'uffd': {
        // mseal and userfaultfd only where the kernel has them; no uffd inside a child.
        if (op.t === 'uffd' && (!ctx.probe.userfaultfd || sh.inChild)) break;
        if (op.t === 'mseal') {
          if (!ctx.probe.mseal) break;
          // A seal is for the life of the process: sealing in the parent would leave the
          // reused arena impossible to reset, so seals happen in a fork-continue child.
          if (!sh.inChild) {
            if (sh.forks >= 3) break;
            emit({ op: 'fork-continue' });
            sh.forks++;
            vmas = layout(sh, pages);
          }
        }
        const p = clamp(resolvePick(op.at, vmas, pages), 0, pages - 1);
        const [a, n] = rangeIn(p, resolveLenPages(op.len, p, vmas, pages), pages);
        if (op.t === 'mlock')
          emit(
            op.onfault
              ? { op: 'mlock', at: at(a), len: n, onfault: true }
              : { op: 'mlock', at: at(a), len: n },
          );
        else emit({ op: op.t, at: at(a), len: n });
        break;
      }
      case 'touch':
      case 'read': {
        const [a, n] = rangeIn(resolvePick(op.at, vmas, pages), op.pages, pages);
        emit(n > 1 ? { op: op.t, at: at(a), pages: n } : { op: op.t, at: at(a) });
        break;
      }
      case 'mremap':
        emit(realizeMremap(op, vmas, pages, relocate));
        break;
      case 'fork':
      case 'fork-continue':
        // Children are real processes: a few per run, and none forked from a child.
        if (sh.inChild || sh.forks >= 3) break;
        if (op.t === 'fork') {
          const name = `c${sh.forks + 1}`;
          emit({ op: 'fork', name });
          sh.children.push(name);
        } else {
          emit({ op: 'fork-continue' });
        }
        sh.forks++;
        break;
      case 'release': {
        if (sh.inChild || sh.children.length === 0) break;
        // Newest first: a later idle child inherits the command pipe of an earlier one
        // (native/process.cc forks without closing it), so releasing the earlier child first
        // waits for an EOF that never comes.
        const name = sh.children.pop()!;
        emit({ op: 'release', child: name });
        break;
      }
    }
  }
  return steps;
}

/**
 * Applies one concrete step to the shadow: the runner's step, minus the comparison. Where
 * the kernel would choose the place, the shadow puts memory far above the arena, as the
 * kernel's top-down search does.
 */
function applyShadow(sh: Shadow, s: Step, index: number, placeUnfixed: () => void): void {
  const call = decodeStep(s, index, `$.steps[${index}]`);
  if (kernelPlaces(call)) placeUnfixed();
  try {
    executeStep(call, sh.ctx, `$.steps[${index}]`);
  } catch (e) {
    // A name no earlier step bound (a memfd or fork the model refused): the step does nothing.
    if (!(e instanceof ScenarioInputError)) throw e;
  }
  sh.inChild = sh.ctx.space !== sh.root;
}
