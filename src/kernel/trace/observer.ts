/**
 * Observes one call: kprobe events on the traceable targets, enabled in a trace instance of
 * our own (its own buffer, nobody else's events), limited to one pid (set_event_pid and a
 * common_pid filter), cleared just before and read just after the call, then torn down.
 */
import fs from 'node:fs';
import { GROUP, eventName, type TracerStatus } from './discover.js';
import { TARGETS } from './targets.js';
import { readTrace, writeTrace, type FsResult } from './tracefs.js';

export interface Observation<T> {
  value: T;
  /** The instance's trace text, exactly as read. */
  text: string;
}

export class TraceSetupError extends Error {
  override readonly name = 'TraceSetupError';
}

function must(r: FsResult<null>, what: string): void {
  if (!r.ok) throw new TraceSetupError(`${what}: ${r.code}`);
}

/** The kprobe_events lines for the probeable targets of `status`. */
export function probeLines(status: TracerStatus): { create: string[]; remove: string[] } {
  const create: string[] = [];
  const remove: string[] = [];
  for (const t of status.targets) {
    if (t.kprobe !== 'ok' || t.symbol === null) continue;
    const spec = TARGETS.find((x) => x.fn === t.fn)!;
    const args = t.withArgs && spec.args !== '' ? ` ${spec.args}` : '';
    create.push(`p:${GROUP}/${eventName(t.fn, false)} ${t.symbol}${args}`);
    remove.push(`-:${GROUP}/${eventName(t.fn, false)}`);
    if (spec.ret) {
      create.push(`r:${GROUP}/${eventName(t.fn, true)} ${t.symbol} ret=$retval:x64`);
      remove.push(`-:${GROUP}/${eventName(t.fn, true)}`);
    }
  }
  return { create, remove };
}

/** Runs `run` (which makes the call in process `pid`) with the probes on. */
export function observe<T>(status: TracerStatus, pid: number, run: () => T): Observation<T> {
  if (status.problem !== null || status.tracefs === null)
    throw new TraceSetupError(status.problem ?? 'no tracefs');
  const dir = status.tracefs;
  const { create, remove } = probeLines(status);
  const inst = `instances/mremap_lab_${process.pid}`;
  const events = `${inst}/events/${GROUP}`;
  const made: string[] = [];
  let instMade = false;
  try {
    for (let i = 0; i < create.length; i++) {
      must(
        writeTrace(dir, 'kprobe_events', `${create[i]}\n`, true),
        `kprobe_events '${create[i]}'`,
      );
      made.push(remove[i]!);
    }
    fs.mkdirSync(`${dir}/${inst}`);
    instMade = true;
    must(writeTrace(dir, `${inst}/set_event_pid`, `${pid}\n`), 'set_event_pid');
    for (const name of fs.readdirSync(`${dir}/${events}`)) {
      if (!fs.statSync(`${dir}/${events}/${name}`).isDirectory()) continue;
      must(writeTrace(dir, `${events}/${name}/filter`, `common_pid == ${pid}\n`), `${name} filter`);
    }
    must(writeTrace(dir, `${events}/enable`, '1\n'), 'enable');
    // Opening `trace` for writing with truncation clears the instance's buffer.
    must(writeTrace(dir, `${inst}/trace`, ''), 'clear');
    const value = run();
    must(writeTrace(dir, `${events}/enable`, '0\n'), 'disable');
    const text = readTrace(dir, `${inst}/trace`);
    if (!text.ok) throw new TraceSetupError(`reading the trace: ${text.code}`);
    return { value, text: text.value };
  } finally {
    if (instMade) {
      writeTrace(dir, `${events}/enable`, '0\n');
      try {
        fs.rmdirSync(`${dir}/${inst}`);
      } catch {
        // An instance with an event still open elsewhere stays; its probes are removed below.
      }
    }
    for (const r of made.reverse()) writeTrace(dir, 'kprobe_events', `${r}\n`, true);
  }
}
