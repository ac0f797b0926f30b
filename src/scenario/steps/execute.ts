/**
 * A decoded step carried out on an AddressSpace — the kernel or the model alike — with the
 * names, files and children bound by earlier steps. This is what a step does; the runner
 * adds the comparison, the fuzz generator's shadow replays it to see the layout.
 */
import type {
  AddressSpace,
  ChildId,
  FileId,
  MapArgs,
  RemapArgs,
} from '../../space/address-space.js';
import { PAGE_SIZE } from '../../space/constants.js';
import { ok, type Result } from '../../space/result.js';
import { resolveAddr, ScenarioInputError, type Bindings } from '../address.js';
import type { StepCall } from './decode.js';

/** One side's running state: what earlier steps bound, and the space later steps run in. */
export interface StepContext extends Bindings {
  /** The space steps run in: a fork-continue switches it to the child's. */
  space: AddressSpace;
  readonly files: Map<string, FileId>;
  readonly children: Map<string, { parent: AddressSpace; id: ChildId }>;
  /** The space of a child made by fork(). */
  childSpace(parent: AddressSpace, child: ChildId): AddressSpace;
}

export interface StepOutcome {
  /** The step's result: the call's value or errno; touch, memfd and fork give 0. */
  result: Result<unknown>;
  /** Where a successful map or mremap put memory (the kernel's choice when unfixed). */
  placed?: { addr: bigint; length: bigint };
  /** An mremap's arguments as passed (the fuzz harness checks the kernel around them). */
  remap?: RemapArgs;
}

/** Carries out `call` (decoded from the step at JSON path `path`) in `ctx.space`. */
export function executeStep(call: StepCall, ctx: StepContext, path: string): StepOutcome {
  const sp = ctx.space;
  const at = (e: string, field = 'at') => resolveAddr(e, ctx, `${path}.${field}`);
  switch (call.op) {
    case 'map': {
      const args: MapArgs = {
        addr: at(call.at),
        length: call.length,
        prot: call.prot,
        flags: call.flags,
      };
      if (call.file !== undefined) {
        const f = ctx.files.get(call.file);
        if (f === undefined)
          throw new ScenarioInputError(
            `a ${call.kind} mapping needs "file": the name of an earlier ${call.kind.startsWith('file') ? 'file' : 'memfd'} step`,
            `${path}.file`,
          );
        args.file = f;
        args.offset = call.offset;
      }
      const res = sp.map(args);
      if (!res.ok) return { result: res };
      if (call.bind) ctx.names.set(call.bind, res.value);
      return { result: res, placed: { addr: res.value, length: args.length } };
    }
    case 'memfd': {
      const res = call.disk
        ? sp.diskFile(call.size, call.contents)
        : sp.memfd(call.size, call.contents);
      if (!res.ok) return { result: res };
      ctx.files.set(call.bind, res.value);
      return { result: ok(0) };
    }
    case 'munmap':
      return { result: sp.unmap(at(call.at), call.length) };
    case 'mseal':
      return { result: sp.seal(at(call.at), call.length) };
    case 'uffd':
      return {
        result: sp.uffdRegister(at(call.at), call.length, {
          mode: call.mode,
          ...(call.features === undefined ? {} : { features: call.features }),
          ...(call.kernelFaults === true ? { kernelFaults: true } : {}),
        }),
      };
    case 'munlock':
      return { result: sp.unlock(at(call.at), call.length) };
    case 'mlock':
      return { result: sp.lock(at(call.at), call.length, call.flags) };
    case 'mprotect':
      return { result: sp.protect(at(call.at), call.length, call.prot) };
    case 'madvise':
      return { result: sp.advise(at(call.at), call.length, call.advice) };
    case 'mremap': {
      const args: RemapArgs = {
        addr: at(call.at),
        oldLen: call.oldLen,
        newLen: call.newLen,
        flags: call.flags,
        newAddr: call.to === undefined ? 0n : at(call.to, 'to'),
      };
      const res = sp.remap(args);
      if (!res.ok) return { result: res, remap: args };
      if (call.bind !== undefined) ctx.names.set(call.bind, res.value);
      return { result: res, remap: args, placed: { addr: res.value, length: call.newLen } };
    }
    case 'touch': {
      const base = at(call.at);
      for (let p = 0; p < call.pages; p++) {
        const res = sp.touch(base + BigInt(p) * PAGE_SIZE, call.tag + BigInt(p));
        if (!res.ok) return { result: res };
      }
      return { result: ok(0) };
    }
    case 'read': {
      const base = at(call.at);
      let last: Result<bigint> = ok(0n);
      for (let p = 0; p < call.pages; p++) {
        last = sp.read(base + BigInt(p) * PAGE_SIZE);
        if (!last.ok) return { result: last };
      }
      return { result: last };
    }
    case 'fork': {
      const res = sp.fork();
      if (!res.ok) return { result: res };
      if (call.bind) ctx.children.set(call.bind, { parent: sp, id: res.value });
      if (call.continue) ctx.space = ctx.childSpace(sp, res.value);
      return { result: ok(0) };
    }
    case 'release': {
      const c = ctx.children.get(call.child);
      if (!c)
        throw new ScenarioInputError(
          `unknown child "${call.child}": name it in a fork step`,
          `${path}.child`,
        );
      return { result: c.parent.release(c.id) };
    }
    case 'check':
      return { result: ok(0) };
  }
}
