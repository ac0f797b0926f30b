/**
 * `bench --beside-selftest`: the kernel's mremap_test and the `selftest` preset, run in
 * turns (selftest, bench, selftest, bench, …), and per case both medians, the ratio
 * bench/selftest with its spread over the pairs, and a verdict. Every run's raw output is
 * kept in the output directory.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { presetMatrix } from './matrix.js';
import { BenchInputError, runBench } from './run.js';
import { parseSelftestOutput } from './selftest-build.js';
import {
  SELFTEST_CASES,
  selftestNameOf,
  selftestThreshold,
  type SelftestCase,
} from './selftest-cases.js';
import { median } from './stats.js';

/** Within this much of 1 the two agree (issue 16: "every case within 5%"). */
export const AGREE = 0.05;

export interface PairedCase {
  name: string;
  /** One selftest shot per pair (ns). */
  selftest: number[];
  /** The bench median of each pair (ns). */
  bench: number[];
}

export interface CaseVerdict {
  name: string;
  pairs: number;
  selftestMedian: number;
  benchMedian: number;
  /** Median over the pairs of bench/selftest. */
  ratio: number;
  /** Lowest and highest pair ratio. */
  spread: [number, number];
  verdict: string;
  why: string;
}

// Why a side can take longer where the layout is the same: the known differences of method,
// offered as candidates, not as measured attributions (docs/benchmarks.md).
const BENCH_MORE =
  "candidate (not measured): bench's sampler is a fork of Node: the same move in a bigger mm (hundreds more VMAs in the maple tree, more to walk and to lock); small moves feel it most";
const SELFTEST_MORE =
  "candidate (not measured): the selftest's one shot per case follows other work of its process (the previous case's fills and checks: colder caches), where bench's samples follow each other";

// Cases whose difference was measured with bench/c/selftest_shots.c (remap_region()'s steps
// redone and repeated in one process, with switches for bench's way of setting up): what it
// showed replaces the candidates above. Figures and commands in docs/benchmarks.md.
export const MEASURED: Readonly<Record<string, string>> = {
  '8KB mremap - Source PTE-aligned, Destination PTE-aligned':
    "measured: the selftest's one shot is the first move of its process, after main() wrote its random buffer (40 MiB or more) and ran three failing cases; bench repeats those steps before every sample of this case (firstShot, native/timing.cc FirstShotHistory): warm samples took 0.4-0.6x the selftest's shot, the fill alone 1.5x",
  '5MB mremap - Source 1MB-aligned, Dest 1MB-aligned with 40MB Preamble':
    "measured: the selftest times this move right after its 40 MiB preamble memcpy, with the CPU caches cold (a 40 MiB memcpy before the clock slows the 5 MiB move without a preamble as much, bench/c/selftest_shots.c); bench now places and fills the preamble last too (before, its munmaps after the fill warmed the kernel: ratio 0.47-0.57); the rest of the gap is inside the pairs' spread",
};

export function judge(p: PairedCase): CaseVerdict {
  const n = Math.min(p.selftest.length, p.bench.length);
  const ratios = Array.from({ length: n }, (_, i) => p.bench[i]! / p.selftest[i]!);
  const ratio = median(ratios);
  const spread: [number, number] = [Math.min(...ratios), Math.max(...ratios)];
  let verdict: string;
  let why = '';
  if (spread[0] >= 1 - AGREE && spread[1] <= 1 + AGREE) verdict = 'match';
  else if (spread[0] > 1 + AGREE) {
    verdict = 'bench does more';
    why = BENCH_MORE;
  } else if (spread[1] < 1 - AGREE) {
    verdict = 'selftest does more';
    why = MEASURED[p.name] ?? SELFTEST_MORE;
  } else if (Math.abs(ratio - 1) <= AGREE) {
    verdict = 'match (median; pairs scatter)';
    why = 'the pair ratios leave the ±5% band: machine noise (load, host stalls), not work';
  } else {
    verdict = 'uncertain';
    why = `the pair ratios straddle the ±5% band; ${MEASURED[p.name] ?? (ratio > 1 ? BENCH_MORE : SELFTEST_MORE)}`;
  }
  return {
    name: p.name,
    pairs: n,
    selftestMedian: median(p.selftest.slice(0, n)),
    benchMedian: median(p.bench.slice(0, n)),
    ratio,
    spread,
    verdict,
    why,
  };
}

export interface BesideOptions {
  binary: string;
  pairs: number;
  samples: number;
  warmup: number;
  /** Selftest names to run (a subset of SELFTEST_CASES). */
  cases: readonly SelftestCase[];
  outDir: string;
  pin: number | null;
  command: string[];
  onNote?: (m: string) => void;
}

/** Runs the pairs; every selftest output and results file lands in outDir. */
export async function runBesideSelftest(o: BesideOptions): Promise<CaseVerdict[]> {
  const names = new Set(o.cases.map((s) => s.name));
  const base = presetMatrix('selftest');
  const matrix = {
    ...base,
    source: 'preset selftest (beside the kernel selftest)',
    cases: base.cases.filter((c) => names.has(selftestNameOf(c) ?? '')),
  };
  const threshold = selftestThreshold(o.cases);
  const paired = new Map<string, PairedCase>(
    o.cases.map((s) => [s.name, { name: s.name, selftest: [], bench: [] }]),
  );
  fs.mkdirSync(o.outDir, { recursive: true });
  // With --pin the selftest runs on the same CPU as bench's sampler. Unpinned, a process
  // that moved to the other CPU during its setup still has its mm in that CPU's mask, and
  // its next TLB flush waits for an IPI there: +30 us on a one-entry PUD move in this VM
  // (docs/benchmarks.md, "The large cases"), on one side only if only one side is pinned.
  const args = ['-t', String(threshold)];
  const [cmd, argv] =
    o.pin === null ? [o.binary, args] : ['taskset', ['-c', String(o.pin), o.binary, ...args]];
  for (let i = 0; i < o.pairs; i++) {
    const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    fs.writeFileSync(path.join(o.outDir, `selftest-${i + 1}.txt`), text);
    if (r.error)
      throw new BenchInputError(
        `running ${o.pin === null ? o.binary : `taskset (util-linux; --pin runs the selftest with it) for ${o.binary}`}: ${r.error.message}`,
      );
    const st = parseSelftestOutput(text);
    for (const s of o.cases) {
      const t = st.times.get(s.name);
      if (t === undefined)
        throw new BenchInputError(
          `${o.binary} -t ${threshold} printed no time for "${s.name}"${st.failed.includes(s.name) ? ' (it failed)' : ''}: see ${path.join(o.outDir, `selftest-${i + 1}.txt`)}`,
        );
      paired.get(s.name)!.selftest.push(t);
    }
    o.onNote?.(`pair ${i + 1}/${o.pairs}: selftest done, bench running`);
    const res = await runBench({
      matrix,
      out: path.join(o.outDir, `bench-${i + 1}.jsonl`),
      resume: false,
      command: o.command,
      samples: o.samples,
      warmup: o.warmup,
      pin: o.pin,
      isolated: true,
    });
    if (res.interrupted) throw new BenchInputError(`interrupted in pair ${i + 1}`);
    for (const rec of res.records) {
      const name = selftestNameOf(rec.params);
      if (name === undefined || !rec.stats) continue;
      paired.get(name)!.bench.push(rec.stats.median);
    }
    for (const p of paired.values())
      if (p.bench.length !== i + 1)
        throw new BenchInputError(
          `bench recorded no time for "${p.name}" in pair ${i + 1}: see ${path.join(o.outDir, `bench-${i + 1}.jsonl`)}`,
        );
  }
  return [...paired.values()].map(judge);
}

/** The selftest cases whose names match the pattern (all without one). */
export function chooseCases(pattern: string | undefined): SelftestCase[] {
  if (pattern === undefined) return [...SELFTEST_CASES];
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'i');
  } catch (e) {
    throw new BenchInputError(
      `--cases ${pattern}: not a regular expression (${(e as Error).message})`,
    );
  }
  const chosen = SELFTEST_CASES.filter((s) => re.test(s.name));
  if (chosen.length === 0)
    throw new BenchInputError(
      `--cases ${pattern} matches none of the selftest's cases (${SELFTEST_CASES.map((s) => `"${s.name}"`).join(', ')})`,
    );
  return chosen;
}
