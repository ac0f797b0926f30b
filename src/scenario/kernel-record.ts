/**
 * One kernel run serving many model profiles (validate --profiles): the kernel side of a
 * scenario runs once with every call on its spaces recorded (arguments and answer, the
 * snapshots included), then each profile's model runs against a replay of that record.
 *
 * The replay is exact because the kernel side never looks at the model: its calls follow
 * from the scenario and its own earlier answers alone (the runner tells the model where the
 * kernel placed memory, never the reverse). So a replay asked the same calls in the same
 * order gives the same answers, and a replay asked anything else is a bug, said loudly.
 */
import type { AddressSpace, ChildId, Snapshot } from '../space/address-space.js';
import type { Side } from './runner.js';

const METHODS = new Set<string>([
  'map',
  'unmap',
  'protect',
  'advise',
  'remap',
  'lock',
  'unlock',
  'seal',
  'uffdRegister',
  'memfd',
  'diskFile',
  'touch',
  'load',
  'outsideMapCount',
  'read',
  'fork',
  'release',
  'snapshot',
] satisfies (keyof AddressSpace)[]);

interface Call {
  /** Which space: 0 the root, then children in the order the runner asked for them. */
  space: number;
  method: string;
  /** The arguments, for checking that the replay is asked the same thing. */
  args: string;
  result: unknown;
}

/**
 * A copy the runner may change: it adds the ranges outside the arena to a window snapshot's
 * arrays (never to their elements, nor to a Result). Not structuredClone: a 1 GiB-aligned
 * arena's snapshot holds thousands of pages, copied once per profile.
 */
function copy(method: string, v: unknown): unknown {
  if (method !== 'snapshot') return v;
  const s = v as Snapshot;
  return { ...s, vmas: [...s.vmas], pages: [...s.pages] };
}

function key(args: unknown[]): string {
  return JSON.stringify(args, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** What a kernel run did: its calls in order, and the exception that ended it, if any. */
export class KernelRecord {
  readonly calls: Call[] = [];
  readonly labels: string[] = [];
  /** Thrown by a kernel call (not by the scenario's own checks); the replay rethrows it. */
  error?: unknown;

  /** A Side whose spaces (root and fork children) record into this record. */
  recording(side: Side): Side {
    const real = new Map<AddressSpace, AddressSpace>();
    const wrap = (space: AddressSpace): AddressSpace => {
      const id = this.labels.length;
      this.labels.push(space.label);
      const proxy = new Proxy(space, {
        get: (target, prop, receiver) => {
          const v: unknown = Reflect.get(target, prop, receiver);
          if (typeof prop !== 'string' || !METHODS.has(prop) || typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            const result: unknown = (v as (...a: unknown[]) => unknown).apply(target, args);
            // A copy: the runner adds the ranges outside the arena to the snapshot it gets.
            this.calls.push({
              space: id,
              method: prop,
              args: key(args),
              result: structuredClone(result),
            });
            return result;
          };
        },
      });
      real.set(proxy, space);
      return proxy;
    };
    return {
      ...side,
      space: wrap(side.space),
      childSpace: (parent: AddressSpace, child: ChildId) =>
        wrap(side.childSpace(real.get(parent) ?? parent, child)),
    };
  }

  /** A kernel Side that answers from this record. */
  replay(): Side {
    let next = 0;
    let spaces = 0;
    const make = (): AddressSpace => {
      const id = spaces++;
      const label = this.labels[id] ?? `kernel (replayed child ${id})`;
      const answer = (method: string, args: unknown[]): unknown => {
        const c = this.calls[next];
        // Optional on a space (a model standing in for the kernel has none): unrecorded, absent.
        if (method === 'outsideMapCount' && c?.method !== method) return undefined;
        if (c === undefined) {
          if (this.error !== undefined) throw this.error;
          throw new Error(`kernel replay: ${method} asked after the recorded run ended`);
        }
        if (c.space !== id || c.method !== method || c.args !== key(args))
          throw new Error(
            `kernel replay out of step at call ${next}: asked ${method}${key(args)} on space ${id}, recorded ${c.method}${c.args} on space ${c.space}`,
          );
        next++;
        return copy(method, c.result);
      };
      const target = { label } as AddressSpace;
      return new Proxy(target, {
        get: (t, prop) =>
          typeof prop === 'string' && METHODS.has(prop)
            ? (...args: unknown[]) => answer(prop, args)
            : Reflect.get(t, prop),
      });
    };
    return { name: 'kernel', space: make(), childSpace: () => make() };
  }
}
