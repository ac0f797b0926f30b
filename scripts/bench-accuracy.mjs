#!/usr/bin/env node
// Accuracy of `mremap-lab bench` against a plain C program (bench/c/mremap_case.c) timing the
// same case at the same addresses, in one run: the 1 GiB moves of mremap_test.c (PTE-, PMD-,
// PUD-aligned) on shared and private anonymous memory. Rounds alternate C and bench so drift
// hits both alike. Also the timing overhead per sample (empty brackets in the sampler).
// Usage: node scripts/bench-accuracy.mjs [--samples N] [--rounds R] [--pin CPU]
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { runCase, timerOverhead } = await import(path.join(root, 'dist/bench/run.js'));
const { expandEntry } = await import(path.join(root, 'dist/bench/matrix.js'));
const { layoutCase, arenaSizeFor } = await import(path.join(root, 'dist/bench/layout.js'));
const { Arena } = await import(path.join(root, 'dist/kernel/arena.js'));
const { probe } = await import(path.join(root, 'dist/kernel/probe.js'));
const { median } = await import(path.join(root, 'dist/bench/stats.js'));
const { planLabel } = await import(path.join(root, 'dist/bench/plan.js'));
const { caseId, GIB } = await import(path.join(root, 'dist/bench/types.js'));

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    pin: { type: 'string' },
  },
});
const SAMPLES = Number(values.samples);
const ROUNDS = Number(values.rounds);
const PIN = values.pin === undefined ? null : Number(values.pin);

const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'mrl-acc-')), 'mremap_case');
execFileSync('cc', ['-O2', '-Wall', '-o', exe, path.join(root, 'bench/c/mremap_case.c')]);
const p = probe();
const hex = (n) => `0x${n.toString(16)}`;

const cases = ['shared-anon', 'private-anon'].flatMap((kind) =>
  expandEntry({ size: '1G', src: ['pte', 'pmd', 'pud'], dst: 'same', kind }),
);
console.log(`kernel ${p.release}, ${ROUNDS} rounds × ${SAMPLES} samples, pin ${PIN ?? 'none'}`);
console.log(
  'case'.padEnd(44),
  'C median'.padStart(12),
  'bench median'.padStart(13),
  'ratio'.padStart(7),
  ' plan',
);
let worst = 0;
for (const c of cases) {
  // One arena reserved for the layout only: its addresses go to the C program too.
  const arena = Arena.reserve({
    size: BigInt(arenaSizeFor(c)),
    align: BigInt(GIB),
    interior: 'empty',
  });
  const l = layoutCase(c, arena);
  arena.release();
  const cs = [];
  const bs = [];
  let plan = '';
  for (let r = 0; r < ROUNDS; r++) {
    const args = [
      hex(l.regionLo),
      hex(Number(arena.end)),
      hex(l.src),
      hex(l.dst),
      String(c.size),
      c.kind === 'shared-anon' ? '1' : '0',
      String(SAMPLES),
      '1',
    ];
    if (PIN !== null) args.push(String(PIN));
    cs.push(...execFileSync(exe, args, { encoding: 'utf8' }).trim().split('\n').map(Number));
    const o = runCase(c, { samples: SAMPLES, warmup: 1, pin: PIN, isolated: true }, p);
    if (o.record.status !== 'ok') throw new Error(`${caseId(c)}: ${o.record.reason}`);
    if (o.record.layout.src !== hex(l.src) || o.record.layout.dst !== hex(l.dst))
      throw new Error('layout differs');
    bs.push(...o.record.samples);
    plan = planLabel(o.record.plan);
  }
  const mc = median(cs);
  const mb = median(bs);
  worst = Math.max(worst, Math.abs(mb / mc - 1));
  const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(3)} ms` : `${(ns / 1e3).toFixed(1)} µs`);
  console.log(
    caseId(c).padEnd(44),
    fmt(mc).padStart(12),
    fmt(mb).padStart(13),
    (mb / mc).toFixed(3).padStart(7),
    '',
    plan,
  );
}
console.log(`largest deviation of a bench median from the C median: ${(worst * 100).toFixed(1)}%`);
const ov = timerOverhead(200_000, PIN, true);
const sorted = [...ov].sort((a, b) => a - b);
console.log(
  `timing overhead per sample (empty brackets, forked sampler, 200000 samples): median ${median(ov)} ns, ` +
    `p99 ${sorted[Math.floor(sorted.length * 0.99)]} ns, min ${sorted[0]} ns`,
);
