/**
 * Runs a matrix: per case, an arena of its own, the model's plan for the exact layout, one
 * observed (untimed) call, then the timed samples in C++ (native/timing.cc benchCase), the
 * statistics, and one appended line in the results file.
 */
import { VERSION } from '../version.js';
import fs from 'node:fs';
import { Arena } from '../kernel/arena.js';
import { probe, type ProbeResult } from '../kernel/probe.js';
import { native, type NativeBenchCaseResult } from '../native.js';
import { errnoName } from '../space/errno.js';
import {
  arenaSizeFor,
  layoutCase,
  nativeParams,
  emptyBracketParams,
  type CaseLayout,
} from './layout.js';
import type { Matrix } from './matrix.js';
import { observeLayout, type ObservedLayout } from './observe.js';
import { predictPlan, predictWithWalk, type PlanEnv } from './plan.js';
import { traceCall, type CaseTrace } from './trace.js';
import type { TracerRun } from '../kernel/trace/run.js';
import {
  cpuModel,
  readResults,
  RESULTS_FORMAT,
  RESULTS_VERSION,
  ResultsWriter,
  tornWarning,
  type CaseRecord,
  type ResultsHeader,
} from './results.js';
import { summarize } from './stats.js';
import { cleanSamples, stallInfo } from './stalls.js';
import { benchEnvironment, conditionsSince, stealMsNow } from './environment.js';
import { CaseProcess } from './case-process.js';
import type { CaseBase, CaseOutcome, SampleOptions } from './case-job.js';

export type { CaseBase, CaseJob, CaseOutcome, SampleOptions, WorkerReply } from './case-job.js';
import { caseId, GIB, type BenchCase } from './types.js';

export function planEnv(p: ProbeResult): PlanEnv {
  return {
    thpEnabled: p.thp.enabled,
    haveMovePmd: p.config.haveMovePmd ?? true,
    haveMovePud: p.config.haveMovePud ?? true,
    relocateAnon: p.relocateAnon.relocate,
  };
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function unsupportedReason(c: BenchCase, p: ProbeResult): string | null {
  if (c.flags.includes('RELOCATE_ANON') && !p.relocateAnon.relocate)
    return 'MREMAP_RELOCATE_ANON (RFC, never merged) is rejected by this kernel (EINVAL in check_mremap_params)';
  if (c.flags.includes('MUST_RELOCATE_ANON') && !p.relocateAnon.mustRelocate)
    return 'MREMAP_MUST_RELOCATE_ANON (RFC, never merged) is rejected by this kernel (EINVAL in check_mremap_params)';
  return null;
}

function failure(r: NativeBenchCaseResult): string {
  if (r.stage === 'crash') return `the sampler died with signal ${r.errno}`;
  if (r.stage === 'pin') return `sched_setaffinity to the --pin CPU failed: ${errnoName(r.errno)}`;
  if (r.stage === 'verify')
    return `data check failed at offset 0x${r.badOffset.toString(16)} after the move`;
  return `${r.stage}: ${errnoName(r.errno)}`;
}

function caseBase(c: BenchCase, layout: CaseLayout, p: ProbeResult): CaseBase {
  return {
    type: 'case',
    id: caseId(c),
    params: c,
    layout: {
      src: hex(layout.src),
      dst: hex(layout.dst),
      regionLo: hex(layout.regionLo),
      regionHi: hex(layout.regionHi),
      neighbour: layout.nbLen ? hex(layout.nbAddr) : null,
    },
    plan: predictPlan(c, layout, planEnv(p)),
    durationMs: 0,
    finishedAt: '',
  };
}

/**
 * The base of a case whose worker died before it had an arena: laid out in a nominal
 * GiB-aligned arena at 16 TiB (the plan depends only on alignment, not on the address).
 */
export function nominalCaseBase(c: BenchCase, p: ProbeResult): CaseBase {
  const start = 16n << 40n;
  return caseBase(c, layoutCase(c, { start, end: start + BigInt(arenaSizeFor(c)) }), p);
}

/**
 * One case end to end; the arena is released whatever happens. `onBase` sees the case's
 * base before anything is mapped, so a caller that loses the process can still record it.
 */
export function runCase(
  c: BenchCase,
  o: SampleOptions,
  p: ProbeResult,
  onBase?: (base: CaseBase) => void,
): CaseOutcome {
  const t0 = Date.now();
  const effective: BenchCase = o.noVerify ? { ...c, verify: false } : c;
  const arena = Arena.reserve({
    size: BigInt(arenaSizeFor(c)),
    align: BigInt(GIB),
    interior: 'empty',
  });
  try {
    const layout = layoutCase(c, arena);
    const base = caseBase(c, layout, p);
    const plan = base.plan;
    onBase?.(base);
    let trace: CaseTrace | undefined;
    const done = (
      status: CaseRecord['status'],
      rest: Partial<CaseRecord>,
      interrupted = false,
    ): CaseOutcome => ({
      record: {
        ...base,
        status,
        observed: null,
        samples: [],
        stats: null,
        ...(trace ? { trace } : {}),
        ...rest,
        durationMs: Date.now() - t0,
        finishedAt: new Date().toISOString(),
      },
      interrupted,
    });
    const why = unsupportedReason(c, p);
    if (why !== null) return done('unsupported', { reason: why });

    const seed = 0x1234 + (caseId(c).length << 8);
    // The observed layout: the same setup and call, untimed, in this process.
    const obsOut = new Float64Array(1);
    const observeCall = () =>
      native.benchCase(
        nativeParams(effective, layout, {
          samples: 1,
          warmup: 0,
          cpu: -1,
          mode: 'observe',
          seed,
        }),
        obsOut,
      );
    // The observe call opens the region's placeholders itself (timing.cc OpenRegion), so
    // can_align_down() sees the holes a C program would have.
    let obs: ReturnType<typeof observeCall>;
    if (o.trace) {
      const t = traceCall(o.trace, predictWithWalk(c, layout, planEnv(p)).walk, observeCall);
      obs = t.value;
      trace = t.trace;
    } else obs = observeCall();
    if (!obs.ok) throw new Error(`benchCase: ${errnoName(obs.errno)}`);
    let observed: ObservedLayout | null = null;
    if (obs.value.stage !== 'none') {
      arena.reset('empty');
      const status =
        obs.value.stage === 'mremap' && obs.value.errno === 22 && c.flags.length
          ? 'unsupported'
          : 'failed';
      return done(status, { reason: failure(obs.value) }, obs.value.interrupted);
    }
    observed = observeLayout(
      obs.value.result,
      layout,
      plan,
      Math.min(layout.oldLen, layout.newLen),
    );
    arena.reset('empty');

    // Wall ns, then the sampler's CPU ns over the same brackets (stall detection).
    const out = new Float64Array(2 * o.samples);
    const r = native.benchCase(
      nativeParams(effective, layout, {
        samples: o.samples,
        warmup: o.warmup,
        cpu: o.pin ?? -1,
        mode: 'isolated',
        seed,
      }),
      out,
    );
    if (!r.ok) throw new Error(`benchCase: ${errnoName(r.errno)}`);
    if (r.value.interrupted) return done('failed', { reason: 'interrupted' }, true);
    if (r.value.stage !== 'none') return done('failed', { reason: failure(r.value), observed });
    const samples = Array.from(out.subarray(0, r.value.done));
    const stalls = stallInfo(
      samples,
      Array.from(out.subarray(o.samples, o.samples + r.value.done)),
    );
    const rec = { samples, stalls };
    return done('ok', { observed, ...rec, stats: summarize(cleanSamples(rec)) });
  } finally {
    arena.release();
  }
}

/** Median cost of two back-to-back clock reads in the sampler: the per-sample overhead. */
export function timerOverhead(samples = 100_000, pin: number | null = null): number[] {
  const out = new Float64Array(samples);
  const r = native.benchCase(emptyBracketParams(samples, pin ?? -1, 'isolated'), out);
  if (!r.ok) throw new Error(`benchCase: ${errnoName(r.errno)}`);
  return Array.from(out.subarray(0, r.value.done));
}

export interface RunBenchOptions extends SampleOptions {
  matrix: Matrix;
  out: string;
  resume: boolean;
  command: string[];
  /** With resume: run the cases recorded as failed again (they are skipped otherwise). */
  retryFailed?: boolean;
  /** Warnings and notes for the user (a torn last line, failed cases retried). */
  onNote?: (message: string) => void;
  onStart?: (total: number, already: number) => void;
  onCase?: (record: CaseRecord, position: number, total: number) => void;
  /** bench --trace: trace each case's untimed call (see `trace` of SampleOptions). */
  traceRun?: TracerRun;
}

export interface RunBenchResult {
  header: ResultsHeader;
  records: CaseRecord[];
  /** Cases this run finished. */
  ran: number;
  total: number;
  interrupted: boolean;
}

export class BenchInputError extends Error {}

export function makeHeader(o: RunBenchOptions, p: ProbeResult): ResultsHeader {
  return {
    type: 'header',
    format: RESULTS_FORMAT,
    formatVersion: RESULTS_VERSION,
    toolVersion: VERSION,
    createdAt: new Date().toISOString(),
    command: o.command,
    kernel: p.release,
    cpu: {
      model: cpuModel(),
      count: (() => {
        try {
          return fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? 0;
        } catch {
          return 0;
        }
      })(),
    },
    thp: { enabled: p.thp.enabled, defrag: p.thp.defrag },
    probe: p,
    matrix: {
      source: o.matrix.source,
      samples: o.samples,
      warmup: o.warmup,
      caseIds: o.matrix.cases.map(caseId),
    },
    options: { pin: o.pin, isolated: o.isolated, verify: !o.noVerify },
    environment: benchEnvironment(),
    ...(o.traceRun
      ? {
          trace: {
            method: o.traceRun.usable ? o.traceRun.status.method : 'none',
            problem: o.traceRun.problem,
          },
        }
      : {}),
  };
}

/**
 * Opens the results file of a resumed run: checks it belongs to this run, cuts off a torn
 * last line (its case runs again) and, with `retryFailed`, drops failed records so that
 * their cases run again. Returns the records kept.
 */
function reopen(
  o: RunBenchOptions,
  header: ResultsHeader,
): { kept: CaseRecord[]; h: ResultsHeader } {
  const prev = readResults(o.out);
  const h = prev.header;
  const reasons: string[] = [];
  if (h.toolVersion !== header.toolVersion)
    reasons.push(`tool version ${h.toolVersion}, now ${header.toolVersion}`);
  if (h.kernel !== header.kernel) reasons.push(`kernel ${h.kernel}, now ${header.kernel}`);
  if (JSON.stringify(h.matrix.caseIds) !== JSON.stringify(header.matrix.caseIds))
    reasons.push(
      `its matrix (${h.matrix.source}, ${h.matrix.caseIds.length} cases) differs from this one`,
    );
  if (h.matrix.samples !== o.samples || h.matrix.warmup !== o.warmup)
    reasons.push(
      `samples/warmup ${h.matrix.samples}/${h.matrix.warmup}, now ${o.samples}/${o.warmup}`,
    );
  if (reasons.length) throw new BenchInputError(`cannot resume ${o.out}: ${reasons.join('; ')}`);
  const torn = tornWarning(prev, true);
  if (torn) o.onNote?.(torn);
  const failed = o.retryFailed ? prev.cases.filter((c) => c.status === 'failed') : [];
  if (failed.length) {
    // Rewritten beside the file and renamed over it: a crash here leaves the old file whole.
    const tmp = `${o.out}.retry-${process.pid}`;
    const keep = [h, ...prev.cases.filter((c) => c.status !== 'failed')];
    fs.writeFileSync(tmp, keep.map((r) => `${JSON.stringify(r)}\n`).join(''));
    fs.renameSync(tmp, o.out);
    o.onNote?.(`retrying ${failed.length} failed case(s): ${failed.map((c) => c.id).join(', ')}`);
  } else if (prev.torn) {
    fs.truncateSync(o.out, prev.torn.offset);
  }
  const size = fs.statSync(o.out).size;
  if (size > 0) {
    // A last record without its newline (complete, but the "\n" was never written).
    const fd = fs.openSync(o.out, 'r+');
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) fs.writeSync(fd, '\n', size);
    fs.closeSync(fd);
  }
  return { kept: prev.cases.filter((c) => !failed.includes(c)), h };
}

/**
 * Runs (or resumes) a matrix into a results file, each case in a worker process
 * (case-process.ts). SIGINT ends the run after the current sample.
 */
export async function runBench(o: RunBenchOptions): Promise<RunBenchResult> {
  const p = probe();
  let header = makeHeader(o, p);
  const records: CaseRecord[] = [];
  const finished = new Set<string>();
  let writer: ResultsWriter;
  if (o.resume && fs.existsSync(o.out)) {
    const { kept, h } = reopen(o, header);
    header = h;
    for (const c of kept) {
      finished.add(c.id);
      records.push(c);
    }
    writer = new ResultsWriter(o.out, true);
  } else {
    if (fs.existsSync(o.out))
      throw new BenchInputError(
        `${o.out} exists: use --resume to complete it, or choose another --out`,
      );
    writer = new ResultsWriter(o.out, false);
    writer.write(header);
  }
  const worker = new CaseProcess();
  let stopping = false;
  const onSigint = (): void => {
    stopping = true;
    worker.interrupt();
  };
  process.on('SIGINT', onSigint);
  let ran = 0;
  let interrupted = false;
  try {
    const total = o.matrix.cases.length;
    o.onStart?.(total, finished.size);
    for (let i = 0; i < total; i++) {
      const c = o.matrix.cases[i]!;
      const id = caseId(c);
      if (finished.has(id)) continue;
      if (stopping) {
        interrupted = true;
        break;
      }
      const stealBefore = stealMsNow();
      const usable = o.traceRun?.usable;
      const outcome = await worker.run(c, usable ? { ...o, trace: usable } : o, p, () =>
        nominalCaseBase(c, p),
      );
      if (outcome.interrupted || (stopping && outcome.record.status === 'failed')) {
        // A case cut short by the user is not a result: --resume runs it again.
        interrupted = true;
        break;
      }
      const record: CaseRecord = {
        ...outcome.record,
        index: i,
        conditions: conditionsSince(stealBefore),
      };
      writer.write(record);
      records.push(record);
      finished.add(id);
      ran++;
      o.onCase?.(record, finished.size, total);
    }
    if (stopping) interrupted = finished.size < total;
    return { header, records, ran, total, interrupted };
  } finally {
    process.off('SIGINT', onSigint);
    worker.close();
    writer.close();
  }
}
