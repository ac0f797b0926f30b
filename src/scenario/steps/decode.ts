/**
 * A scenario step decoded into the call it makes: the syscall and its arguments as numbers,
 * with addresses still expressions (they resolve against names bound while running, or
 * become C expressions) and files and children still names. Everything a step means that
 * does not depend on the run — protections, flag words, lengths in bytes, a touch's default
 * tag, which name a result binds — is decided here, once, for the runner (and through it the
 * fuzz harness), the fuzz generator's shadow and the C exporter.
 */
import { MAP, MLOCK, MREMAP, PAGE_SIZE } from '../../space/constants.js';
import { exprName, resolveLen, ScenarioInputError } from '../address.js';
import type { AddrExpr, Expect, MappingKind, Step } from '../types.js';
import {
  mapStepFlags,
  parseAdvice,
  parseFlags,
  parseProt,
  parseUffdFeatures,
  parseUffdMode,
} from './fields.js';

export type RangeOp = 'munmap' | 'mseal' | 'munlock';

export type StepCall =
  | {
      op: 'map';
      at: AddrExpr;
      length: bigint;
      prot: number;
      flags: number;
      kind: MappingKind;
      /** The file (a name bound by a memfd or file step), for the memfd and file kinds. */
      file?: string;
      /** Byte offset into the file (passed to the kernel for the file-backed kinds only). */
      offset: bigint;
      /** The name the returned address is bound to. */
      bind?: string;
    }
  /** memfd_create (or a disk file, `disk`) with page index → tag written before mapping. */
  | { op: 'memfd'; size: bigint; bind: string; disk: boolean; contents: Map<number, bigint> }
  | { op: RangeOp; at: AddrExpr; length: bigint }
  /** UFFDIO_REGISTER in `mode`; with `features`, on a new ctx made by UFFDIO_API(features). */
  | {
      op: 'uffd';
      at: AddrExpr;
      length: bigint;
      mode: number;
      features?: number;
      kernelFaults?: boolean;
    }
  | { op: 'mlock'; at: AddrExpr; length: bigint; flags: number }
  | { op: 'mprotect'; at: AddrExpr; length: bigint; prot: number }
  | { op: 'madvise'; at: AddrExpr; length: bigint; advice: number }
  | {
      op: 'mremap';
      at: AddrExpr;
      oldLen: bigint;
      newLen: bigint;
      flags: bigint;
      /** new_addr; absent: 0. */
      to?: AddrExpr;
      /** The name the result is bound to: `name`, else the name `at` is exactly. */
      bind?: string;
    }
  /** Write faults on `pages` pages from `at`, page i storing `tag + i`. */
  | { op: 'touch'; at: AddrExpr; pages: number; tag: bigint }
  /** Read faults on `pages` pages from `at`; the result is the last value read. */
  | { op: 'read'; at: AddrExpr; pages: number }
  /** fork(); with `continue`, the later steps run in the child. */
  | { op: 'fork'; continue: boolean; bind?: string }
  | { op: 'release'; child: string }
  | { op: 'check' };

/** The steps whose result is an address (where the kernel put the mapping). */
export function returnsAddress(op: Step['op']): boolean {
  return op === 'map' || op === 'mremap';
}

/**
 * Whether the kernel may choose where the call puts memory: a map without MAP_FIXED or
 * MAP_FIXED_NOREPLACE, an mremap without MREMAP_FIXED (it may move the range anywhere).
 */
export function kernelPlaces(call: StepCall): boolean {
  if (call.op === 'map') return (call.flags & (MAP.FIXED | MAP.FIXED_NOREPLACE)) === 0;
  return call.op === 'mremap' && (call.flags & MREMAP.FIXED) === 0n;
}

/** A step's expectations as a list (the format allows one object or an array). */
export function expectations(step: Step): Expect[] {
  return step.expect === undefined ? [] : Array.isArray(step.expect) ? step.expect : [step.expect];
}

/**
 * Decodes step `index` (JSON path `path`). Throws ScenarioInputError naming the field for a
 * value the schema would refuse; names are only looked up when the call runs.
 */
export function decodeStep(step: Step, index: number, path: string): StepCall {
  const len = (l: Parameters<typeof resolveLen>[0], field: string) =>
    resolveLen(l, `${path}.${field}`);
  switch (step.op) {
    case 'map': {
      const kind = step.kind ?? 'anon';
      const call: StepCall = {
        op: 'map',
        at: step.at,
        length: len(step.len, 'len'),
        prot: parseProt(step.prot, `${path}.prot`),
        flags: mapStepFlags(step),
        kind,
        offset: BigInt(step.offset ?? 0) * PAGE_SIZE,
      };
      if (kind !== 'anon' && kind !== 'shared') {
        if (step.file === undefined)
          throw new ScenarioInputError(
            `a ${kind} mapping needs "file": the name of an earlier ${kind.startsWith('file') ? 'file' : 'memfd'} step`,
            `${path}.file`,
          );
        call.file = step.file;
      }
      if (step.name) call.bind = step.name;
      return call;
    }
    case 'memfd':
    case 'file':
      return {
        op: 'memfd',
        size: BigInt(step.pages) * PAGE_SIZE,
        bind: step.name,
        disk: step.op === 'file',
        contents: new Map(Object.entries(step.tags ?? {}).map(([p, t]) => [Number(p), BigInt(t)])),
      };
    case 'munmap':
    case 'mseal':
    case 'munlock':
      return { op: step.op, at: step.at, length: len(step.len, 'len') };
    case 'uffd': {
      const call: StepCall = {
        op: 'uffd',
        at: step.at,
        length: len(step.len, 'len'),
        mode: parseUffdMode(step.mode, `${path}.mode`),
      };
      if (step.features !== undefined)
        call.features = parseUffdFeatures(step.features, `${path}.features`);
      if (step.kernelFaults === true) call.kernelFaults = true;
      return call;
    }
    case 'mlock':
      return {
        op: 'mlock',
        at: step.at,
        length: len(step.len, 'len'),
        flags: step.onfault ? MLOCK.ONFAULT : 0,
      };
    case 'mprotect':
      return {
        op: 'mprotect',
        at: step.at,
        length: len(step.len, 'len'),
        // PROT_GROWSDOWN (include/uapi/asm-generic/mman-common.h): down to the VMA's start.
        prot: parseProt(step.prot, `${path}.prot`) | (step.growsdown ? 0x01000000 : 0),
      };
    case 'madvise':
      return {
        op: 'madvise',
        at: step.at,
        length: len(step.len, 'len'),
        advice: parseAdvice(step.advice, `${path}.advice`),
      };
    case 'mremap': {
      const call: StepCall = {
        op: 'mremap',
        at: step.at,
        oldLen: len(step.oldLen, 'oldLen'),
        newLen: len(step.newLen, 'newLen'),
        flags: parseFlags(step.flags, `${path}.flags`),
      };
      if (step.to !== undefined) call.to = step.to;
      const bind = step.name ?? exprName(step.at);
      if (bind !== undefined) call.bind = bind;
      return call;
    }
    case 'touch':
      // The default tag is unique in the scenario, so data that moved is recognised.
      return {
        op: 'touch',
        at: step.at,
        pages: step.pages ?? 1,
        tag: BigInt(step.tag ?? (index + 1) * 0x1000),
      };
    case 'read':
      return { op: 'read', at: step.at, pages: step.pages ?? 1 };
    case 'fork':
    case 'fork-continue': {
      const call: StepCall = { op: 'fork', continue: step.op === 'fork-continue' };
      if (step.name) call.bind = step.name;
      return call;
    }
    case 'release':
      return { op: 'release', child: step.child };
    case 'check':
      return { op: 'check' };
  }
}
