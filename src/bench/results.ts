/**
 * The results file: JSON lines. Line 1 is the header (environment, matrix, command); every
 * further line is one finished case, appended (and fsynced) the moment it finishes, so an
 * interrupted run loses at most the case in progress.
 */
import type { BenchTraceInfo, CaseTrace } from './trace.js';
import type { BenchEnvironment, RunConditions } from './environment.js';
export { cpuModel } from './cpu-model.js';
import fs from 'node:fs';
import type { ProbeResult } from '../kernel/probe.js';
import { JsonInputError, parseJsonWithLines } from './jsonpos.js';
import type { ObservedLayout } from './observe.js';
import type { PredictedPlan } from './plan.js';
import type { SampleStats } from './stats.js';
import type { BenchCase } from './types.js';

export const RESULTS_FORMAT = 'mremap-lab-bench';
export const RESULTS_VERSION = 1;

export interface ResultsHeader {
  type: 'header';
  format: typeof RESULTS_FORMAT;
  formatVersion: number;
  toolVersion: string;
  createdAt: string;
  /** process.argv of the run that created the file. */
  command: string[];
  kernel: string;
  cpu: { model: string; count: number };
  thp: { enabled: string | null; defrag: string | null };
  probe: ProbeResult;
  matrix: { source: string; samples: number; warmup: number; caseIds: string[] };
  options: { pin: number | null; isolated: boolean; verify: boolean };
  /** The machine beyond the kernel release (absent in files from before it was recorded). */
  environment?: BenchEnvironment;
  /** bench --trace: how the plans were traced, or why they could not be. */
  trace?: BenchTraceInfo;
}

export type CaseStatus = 'ok' | 'unsupported' | 'failed';

/** Samples whose wall time ran ahead of the sampler's CPU time (stalls.ts decides which). */
export interface StallInfo {
  rule: string;
  count: number;
  /** Indices into `samples` (run order). */
  indices: number[];
  /** The sampler's CPU ns over each sample's bracket, aligned with `samples`. */
  cpuNs: number[];
}

export interface CaseRecord {
  type: 'case';
  index: number;
  id: string;
  params: BenchCase;
  status: CaseStatus;
  /** Why a case is unsupported or failed (errno name and stage). */
  reason?: string;
  layout: {
    src: string;
    dst: string;
    regionLo: string;
    regionHi: string;
    neighbour: string | null;
  };
  plan: PredictedPlan;
  observed: ObservedLayout | null;
  /** Nanoseconds per sample, in run order (warm-up excluded). */
  samples: number[];
  /**
   * Statistics over the samples no stall hit (src/bench/stalls.ts); files from before stall
   * detection have no `stalls` and use all samples.
   */
  stats: SampleStats | null;
  stalls?: StallInfo;
  /** Steal time and load while the case ran. */
  conditions?: RunConditions;
  /** bench --trace: the kernel's traced walk beside the predicted plan. */
  trace?: CaseTrace;
  durationMs: number;
  finishedAt: string;
}

export interface ResultsFile {
  file: string;
  header: ResultsHeader;
  cases: CaseRecord[];
  torn: TornLine | null;
}

/** The warning for a torn last line, or null. */
export function tornWarning(f: ResultsFile, resuming = false): string | null {
  if (!f.torn) return null;
  return (
    `warning: ${f.file}:${f.torn.line}: the last line is incomplete (${f.torn.bytes} bytes, ` +
    `the writer was killed mid-line); ignoring it` +
    (resuming
      ? ', cutting it off and running that case again'
      : `; \`--resume\` removes it and reruns that case`)
  );
}

function requireFields(
  o: Record<string, unknown>,
  spec: Record<string, string>,
  bad: (field: string, reason: string) => never,
): void {
  for (const [k, type] of Object.entries(spec)) {
    const v = o[k];
    const ok = type === 'array' ? Array.isArray(v) : typeof v === type && v !== null;
    if (!ok) bad(k, v === undefined ? 'missing' : `expected ${type}`);
  }
}

/** The last line of a file whose writer was killed mid-line: ignored, its case redone. */
export interface TornLine {
  line: number;
  /** Byte offset where the torn line starts (--resume truncates the file there). */
  offset: number;
  bytes: number;
}

/**
 * Reads a results file; malformed input throws JsonInputError (file, line, field). A last
 * line without its newline that is not valid JSON is what a writer killed mid-write leaves
 * (records are appended one write each, so only the last can be torn): it is reported in
 * `torn` and left out instead of making the whole file unreadable. A case recorded twice is
 * refused, naming both lines.
 */
export function readResults(file: string): ResultsFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new JsonInputError(file, 0, '', (e as Error).message);
  }
  const lines = text.split('\n');
  let torn: TornLine | null = null;
  const lastRaw = lines[lines.length - 1]!;
  if (lastRaw.trim() !== '') {
    try {
      JSON.parse(lastRaw);
    } catch {
      const start = text.length - lastRaw.length;
      torn = {
        line: lines.length,
        offset: Buffer.byteLength(text.slice(0, start)),
        bytes: Buffer.byteLength(lastRaw),
      };
      lines.pop();
    }
  }
  let header: ResultsHeader | null = null;
  const cases: CaseRecord[] = [];
  const seen = new Map<string, number>();
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.trim() === '') return;
    const { value } = parseJsonWithLines(raw, file, lineNo);
    const bad = (field: string, reason: string): never => {
      throw new JsonInputError(file, lineNo, field, reason);
    };
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      bad('', 'each line is a JSON object');
    const o = value as Record<string, unknown>;
    if (header === null) {
      if (o.type !== 'header') bad('type', 'the first record must be the header');
      if (o.format !== RESULTS_FORMAT) bad('format', `not a ${RESULTS_FORMAT} results file`);
      if (o.formatVersion !== RESULTS_VERSION)
        bad(
          'formatVersion',
          `format version ${String(o.formatVersion)}; this tool reads ${RESULTS_VERSION}`,
        );
      requireFields(
        o,
        {
          toolVersion: 'string',
          kernel: 'string',
          matrix: 'object',
          probe: 'object',
          command: 'array',
        },
        bad,
      );
      header = o as unknown as ResultsHeader;
      return;
    }
    if (o.type !== 'case') bad('type', `expected "case" (got ${JSON.stringify(o.type)})`);
    requireFields(
      o,
      {
        id: 'string',
        index: 'number',
        params: 'object',
        status: 'string',
        samples: 'array',
        plan: 'object',
      },
      bad,
    );
    if (!['ok', 'unsupported', 'failed'].includes(o.status as string))
      bad('status', 'expected ok, unsupported or failed');
    if (!(o.samples as unknown[]).every((x) => typeof x === 'number' && Number.isFinite(x)))
      bad('samples', 'expected a list of numbers (ns)');
    if (o.status === 'ok' && (o.samples as unknown[]).length === 0)
      bad('samples', 'an ok case needs at least one sample');
    const first = seen.get(o.id as string);
    if (first !== undefined)
      bad(
        'id',
        `case ${JSON.stringify(o.id)} is recorded twice (also on line ${first}); keep one of the two lines`,
      );
    seen.set(o.id as string, lineNo);
    cases.push(o as unknown as CaseRecord);
  });
  if (header === null)
    throw new JsonInputError(
      file,
      1,
      '',
      torn
        ? 'the header line is incomplete (the writer was killed while creating the file); delete the file and run again'
        : 'empty results file (no header)',
    );
  return { file, header, cases, torn };
}

/** Why two results files cannot be compared or merged; null when they can. */
/** How the CPU ran: a vm guest's accelerator (probe.accel), else real hardware. */
export function accelOf(h: ResultsHeader): string {
  return h.probe.accel ?? 'host';
}

export function incompatibility(
  a: ResultsHeader,
  b: ResultsHeader,
  mixedAccel = false,
): string | null {
  if (a.toolVersion !== b.toolVersion)
    return `written by different tool versions (${a.toolVersion} vs ${b.toolVersion}); re-run both with one version`;
  // TCG emulates every instruction: its timings measure QEMU, not the kernel.
  if (!mixedAccel && accelOf(a) !== accelOf(b))
    return `measured under different CPUs (${accelOf(a)} vs ${accelOf(b)}; tcg is emulated), so the timings are not comparable; pass --mixed-accel to compare anyway`;
  return null;
}

export class ResultsWriter {
  private readonly fd: number;
  constructor(
    readonly file: string,
    append: boolean,
  ) {
    this.fd = fs.openSync(file, append ? 'a' : 'wx');
  }
  write(record: ResultsHeader | CaseRecord): void {
    // fs.writeSync is one write(2), which may write less than asked: loop, so that only a
    // killed writer can leave a torn line.
    const buf = Buffer.from(`${JSON.stringify(record)}\n`);
    for (let off = 0; off < buf.length;) off += fs.writeSync(this.fd, buf, off);
    fs.fsyncSync(this.fd);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}
