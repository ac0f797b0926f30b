/**
 * Observes one call: kprobe events on the traceable targets, enabled in a trace instance of
 * our own (its own buffer, nobody else's events), limited to one pid (a common_pid filter),
 * cleared just before and read just after the call.
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

/**
 * Creates the kprobes of `status` (kprobe_events is global: one owner per run, the process
 * that also removes them); returns their removal, which first takes down instances left
 * by a process that died holding the events enabled (a killed worker), else the kernel
 * refuses to remove a probe that is in use (EBUSY).
 */
export function addProbes(status: TracerStatus): () => void {
  if (status.problem !== null || status.tracefs === null)
    throw new TraceSetupError(status.problem ?? 'no tracefs');
  const dir = status.tracefs;
  const { create, remove } = probeLines(status);
  const made: string[] = [];
  const removeAll = (): void => {
    // A worker that is still exiting holds its instance for a moment (EBUSY): wait for it.
    for (let round = 0; round < 50 && made.length > 0; round++) {
      if (round > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      sweepInstances(dir);
      for (const r of [...made].reverse())
        if (writeTrace(dir, 'kprobe_events', `${r}\n`, true).ok) made.splice(made.indexOf(r), 1);
    }
  };
  try {
    for (let i = 0; i < create.length; i++) {
      must(
        writeTrace(dir, 'kprobe_events', `${create[i]}\n`, true),
        `kprobe_events '${create[i]}'`,
      );
      made.push(remove[i]!);
    }
  } catch (e) {
    removeAll();
    throw e;
  }
  return removeAll;
}

const INSTANCE = /^mremap_lab_(\d+)$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes our trace instances whose process is gone. */
export function sweepInstances(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(`${dir}/instances`);
  } catch {
    return;
  }
  for (const n of names) {
    const m = INSTANCE.exec(n);
    if (m === null || alive(Number(m[1]))) continue;
    writeTrace(dir, `instances/${n}/events/${GROUP}/enable`, '0\n');
    try {
      fs.rmdirSync(`${dir}/instances/${n}`);
    } catch {
      // Still busy: its probes stay too, and kprobe_events says so on the next run.
    }
  }
}

/**
 * A trace instance of this process's own (its own buffer) with the probes' events enabled
 * in it, limited to one pid at a time. The probes must exist (addProbes) while it is open.
 */
export class TraceInstance {
  private readonly dir: string;
  private readonly inst = `instances/mremap_lab_${process.pid}`;
  private readonly events = `${this.inst}/events/${GROUP}`;
  private pid = -1;
  private open = false;

  constructor(status: TracerStatus) {
    if (status.problem !== null || status.tracefs === null)
      throw new TraceSetupError(status.problem ?? 'no tracefs');
    this.dir = status.tracefs;
    fs.mkdirSync(`${this.dir}/${this.inst}`);
    this.open = true;
    try {
      // The buffer is per CPU and read merged by timestamp; the default "local" clock is not
      // in sync across CPUs, so a call that migrated mid-walk read back out of order (a
      // munmap's flushes inside move_page_tables' walk, in a TCG guest).
      must(writeTrace(this.dir, `${this.inst}/trace_clock`, 'global\n'), 'trace_clock');
      must(writeTrace(this.dir, `${this.events}/enable`, '1\n'), 'enable');
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * Limits the events to `pid` by a common_pid filter on each. Not set_event_pid: that
   * hooks the sched_switch/sched_wakeup tracepoints, whose static keys are patched into
   * __schedule() every time, and a Debian 6.12 guest under multi-threaded TCG panicked in
   * __schedule() mid-patch when instances came and went per scenario.
   */
  private target(pid: number): void {
    if (pid === this.pid) return;
    const d = this.dir;
    for (const name of fs.readdirSync(`${d}/${this.events}`)) {
      if (!fs.statSync(`${d}/${this.events}/${name}`).isDirectory()) continue;
      must(
        writeTrace(d, `${this.events}/${name}/filter`, `common_pid == ${pid}\n`),
        `${name} filter`,
      );
    }
    this.pid = pid;
  }

  /** Runs `run` (which makes the call in process `pid`) and returns the trace of it alone. */
  observe<T>(pid: number, run: () => T): Observation<T> {
    this.target(pid);
    // Opening `trace` for writing with truncation clears the instance's buffer.
    must(writeTrace(this.dir, `${this.inst}/trace`, ''), 'clear');
    const value = run();
    const text = readTrace(this.dir, `${this.inst}/trace`);
    if (!text.ok) throw new TraceSetupError(`reading the trace: ${text.code}`);
    return { value, text: text.value };
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    writeTrace(this.dir, `${this.events}/enable`, '0\n');
    try {
      fs.rmdirSync(`${this.dir}/${this.inst}`);
    } catch {
      // An instance with an event still open elsewhere stays; sweepInstances takes it later.
    }
  }
}

let shared: TraceInstance | null = null;

/**
 * This process's one instance for a run whose probes another process owns (validate and
 * bench workers): opened once and kept, since every enable and disable patches the probed
 * functions' text; closed when the process exits, or swept by the owner if it is killed.
 */
export function processInstance(status: TracerStatus): TraceInstance {
  if (shared === null) {
    const inst = new TraceInstance(status);
    shared = inst;
    process.once('exit', () => inst.close());
  }
  return shared;
}

/** Runs `run` (which makes the call in process `pid`) with the probes on, then removes them. */
export function observe<T>(status: TracerStatus, pid: number, run: () => T): Observation<T> {
  const removeProbes = addProbes(status);
  try {
    const inst = new TraceInstance(status);
    try {
      return inst.observe(pid, run);
    } finally {
      inst.close();
    }
  } finally {
    removeProbes();
  }
}
