/**
 * Runs a matrix: per case, an arena of its own, the model's plan for the exact layout, one
 * observed (untimed) call, then the timed samples in C++ (native/timing.cc benchCase), the
 * statistics, and one appended line in the results file.
 */
import fs from 'node:fs';
import { Arena } from '../kernel/arena.js';
import { probe, type ProbeResult } from '../kernel/probe.js';
import { native, type NativeBenchCaseResult } from '../native.js';
import { errnoName } from '../space/errno.js';
import { arenaSizeFor, layoutCase, MODE, nativeParams, emptyBracketParams } from './layout.js';
import type { Matrix } from './matrix.js';
import { observeLayout, type ObservedLayout } from './observe.js';
import { predictPlan, type PlanEnv } from './plan.js';
import {
  cpuModel,
  readResults,
  RESULTS_FORMAT,
  RESULTS_VERSION,
  ResultsWriter,
  toolVersion,
  type CaseRecord,
  type ResultsHeader,
} from './results.js';
import { summarize } from './stats.js';
import { caseId, GIB, type BenchCase } from './types.js';

export interface SampleOptions {
  samples: number;
  warmup: number;
  /** CPU for sched_setaffinity in the sampling process; null = no pinning. */
  pin: number | null;
  /** Sample in a forked single-threaded child (default), or in this process. */
  isolated: boolean;
  /** Overrides the case's verify flag with false (for speed). */
  noVerify?: boolean;
}

export function planEnv(p: ProbeResult): PlanEnv {
  return {
    thpEnabled: p.thp.enabled,
    haveMovePmd: p.config.haveMovePmd ?? true,
    haveMovePud: p.config.haveMovePud ?? true,
    relocateAnon: p.relocateAnon.relocate,
  };
}

export interface CaseOutcome {
  record: Omit<CaseRecord, 'index'>;
  interrupted: boolean;
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
  if (r.stage === 'verify')
    return `data check failed at offset 0x${r.badOffset.toString(16)} after the move`;
  return `${r.stage}: ${errnoName(r.errno)}`;
}

/** One case end to end; the arena is released whatever happens. */
export function runCase(c: BenchCase, o: SampleOptions, p: ProbeResult): CaseOutcome {
  const t0 = Date.now();
  const effective: BenchCase = o.noVerify ? { ...c, verify: false } : c;
  const arena = Arena.reserve({
    size: BigInt(arenaSizeFor(c)),
    align: BigInt(GIB),
    interior: 'empty',
  });
  try {
    const layout = layoutCase(c, arena);
    const plan = predictPlan(c, layout, planEnv(p));
    const base: Omit<CaseRecord, 'index' | 'status' | 'observed' | 'samples' | 'stats'> = {
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
      plan,
      durationMs: 0,
      finishedAt: '',
    };
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
    const obs = native.benchCase(
      nativeParams(effective, layout, { samples: 1, warmup: 0, cpu: -1, mode: MODE.observe, seed }),
      obsOut,
    );
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

    const out = new Float64Array(o.samples);
    const r = native.benchCase(
      nativeParams(effective, layout, {
        samples: o.samples,
        warmup: o.warmup,
        cpu: o.pin ?? -1,
        mode: o.isolated ? MODE.isolated : MODE.inProcess,
        seed,
      }),
      out,
    );
    if (!r.ok) throw new Error(`benchCase: ${errnoName(r.errno)}`);
    if (r.value.interrupted) return done('failed', { reason: 'interrupted' }, true);
    if (r.value.stage !== 'none') return done('failed', { reason: failure(r.value), observed });
    const samples = Array.from(out.subarray(0, r.value.done));
    return done('ok', { observed, samples, stats: summarize(samples) });
  } finally {
    arena.release();
  }
}

/** Median cost of two back-to-back clock reads in the sampler: the per-sample overhead. */
export function timerOverhead(
  samples = 100_000,
  pin: number | null = null,
  isolated = true,
): number[] {
  const out = new Float64Array(samples);
  const r = native.benchCase(
    emptyBracketParams(samples, pin ?? -1, isolated ? MODE.isolated : MODE.inProcess),
    out,
  );
  if (!r.ok) throw new Error(`benchCase: ${errnoName(r.errno)}`);
  return Array.from(out.subarray(0, r.value.done));
}

export interface RunBenchOptions extends SampleOptions {
  matrix: Matrix;
  out: string;
  resume: boolean;
  command: string[];
  onStart?: (total: number, already: number) => void;
  onCase?: (record: CaseRecord, position: number, total: number) => void;
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
    toolVersion: toolVersion(),
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
  };
}

/** Runs (or resumes) a matrix into a results file. SIGINT ends the run after the current sample. */
export function runBench(o: RunBenchOptions): RunBenchResult {
  const p = probe();
  let header = makeHeader(o, p);
  const records: CaseRecord[] = [];
  const finished = new Set<string>();
  let writer: ResultsWriter;
  if (o.resume && fs.existsSync(o.out)) {
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
    header = h;
    for (const c of prev.cases) {
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
  let stopping = false;
  const onSigint = (): void => {
    stopping = true;
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
      const outcome = runCase(c, o, p);
      if (outcome.interrupted) {
        interrupted = true;
        break;
      }
      const record: CaseRecord = { ...outcome.record, index: i };
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
    writer.close();
  }
}
