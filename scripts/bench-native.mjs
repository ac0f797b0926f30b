#!/usr/bin/env node
// npm run bench:native — the addon's timed mremap loop against a plain C program doing the
// same, side by side in one run, plus the cost of one wrapped mremap called from JavaScript.
// Rounds alternate C and addon so drift (frequency, other load) hits both alike.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { native } = await import(path.join(root, 'dist/native.js'));
const { Arena } = await import(path.join(root, 'dist/kernel/arena.js'));
const { sys } = await import(path.join(root, 'dist/kernel/syscalls.js'));

const MOVES = 100_000;
const NOOPS = 1_000_000;
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const PS = 4096n;

const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'mrl-bench-')), 'mremap_pingpong');
execFileSync('cc', ['-O2', '-o', exe, path.join(root, 'bench/c/mremap_pingpong.c')]);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const arena = Arena.reserve({ size: 64n * PS, interior: 'empty' });
const a = arena.page(1);
const b = arena.page(33);
const m = sys.mmap(a, PS, 3, 0x32);
if (!m.ok) throw new Error(`mmap: ${m.code}`);
sys.writeTag(0, a, 1n);

const hexa = (v) => `0x${v.toString(16)}`;
const c = { move: [], noop: [] };
const cDefault = [];
const isolated = [];
const addon = { move: [], noop: [] };
const js = [];
for (let r = 0; r < ROUNDS; r++) {
  // The same virtual pages in the same layout as the addon (the page's neighbourhood
  // changes the cost of a move by ~15% on this machine kind; see docs/benchmarks.md).
  const [cm, cn] = execFileSync(exe, [String(MOVES), String(NOOPS), '0', hexa(a), hexa(b)], {
    encoding: 'utf8',
  })
    .trim()
    .split(' ')
    .map(Number);
  c.move.push(cm);
  c.noop.push(cn);
  cDefault.push(
    Number(execFileSync(exe, [String(MOVES), '1'], { encoding: 'utf8' }).split(' ')[0]),
  );
  const pm = native.benchMremapPingPong(a, b, PS, MOVES / 2);
  const pn = native.benchMremapNoop(a, PS, NOOPS);
  if (!pm.ok || !pn.ok) throw new Error('addon loop failed');
  addon.move.push(pm.value / MOVES);
  const pi = native.benchMremapPingPongIsolated(a, b, PS, MOVES / 2);
  if (!pi.ok) throw new Error('isolated loop failed');
  isolated.push(pi.value / MOVES);
  addon.noop.push(pn.value / NOOPS);
  // The same no-op called through the JS wrapper, one call per iteration, timed in JS.
  const n = 200_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) native.mremap(a, PS, PS, 0n, 0n);
  js.push(Number(process.hrtime.bigint() - t0) / n);
}
arena.release();

const row = (name, cv, av) =>
  `${name.padEnd(28)} C ${median(cv).toFixed(1).padStart(8)} ns   addon ${median(av)
    .toFixed(1)
    .padStart(8)} ns   ratio ${(median(av) / median(cv)).toFixed(3)}`;
console.log(`kernel ${os.release()}, ${ROUNDS} rounds, medians per call`);
console.log(row(`one-page move x${MOVES}`, c.move, addon.move));
console.log(row(`  same, forked child`, c.move, isolated));
console.log(row(`no-op mremap x${NOOPS}`, c.noop, addon.noop));
console.log(
  `(C with its own layout: page between PROT_NONE neighbours: ${median(cDefault).toFixed(1)} ns per move)`,
);
console.log(
  `JS -> addon -> mremap no-op   ${median(js).toFixed(1)} ns per call; ` +
    `wrapper overhead ≈ ${(median(js) - median(addon.noop)).toFixed(1)} ns per call`,
);
