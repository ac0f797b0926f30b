#!/usr/bin/env node
// node scripts/bench-observe.mjs — the observation layer against plain C doing the same work,
// side by side in one run (rounds alternate so drift hits both alike):
//   1. full /proc/PID/maps read + parse of a 60,000-VMA process (this one): bench/c/maps_parse.c
//      vs native.mapsRead (the columns behind readMapsTable);
//   2. snapshot() of a 64-VMA window inside that process through PROCMAP_QUERY;
//   3. pagemap of a populated 1 GiB range: bench/c/pagemap_pread.c (one raw pread) vs
//      native.pagemapDecode (one pread + decode into Uint8Array/Float64Array).
// The TypeScript sources are transpiled on the fly (typescript.transpileModule, no type check)
// into a temporary directory, so the script does not depend on dist/ being built.
// Env: ROUNDS (default 21).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const ts = require('typescript');
const ROUNDS = Number(process.env.ROUNDS ?? 21);
const loadAtStart = os.loadavg().map((x) => Number(x.toFixed(2)));
const PS = 4096n;

// ── transpile the observation modules ──────────────────────────────────────────────
// The entry points and every module they import, followed transitively, so a new import in
// src/kernel/ cannot break the script.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mrl-bench-observe-'));
const queue = ['src/kernel/snapshot.ts', 'src/kernel/maps.ts'];
const seen = new Set(queue);
while (queue.length > 0) {
  const s = queue.shift();
  const text = readFileSync(path.join(root, s), 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)\.js'/g)) {
    const dep = path.join(path.dirname(s), `${m[1]}.ts`);
    if (!seen.has(dep)) {
      seen.add(dep);
      queue.push(dep);
    }
  }
  const out = ts.transpileModule(text, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const dst = path.join(tmp, s.replace(/\.ts$/, '.js'));
  mkdirSync(path.dirname(dst), { recursive: true });
  writeFileSync(dst, out);
}
writeFileSync(path.join(tmp, 'package.json'), '{"type":"module"}');
symlinkSync(path.join(root, 'build'), path.join(tmp, 'build'));
symlinkSync(path.join(root, 'node_modules'), path.join(tmp, 'node_modules'));

const { native } = await import(path.join(tmp, 'src/native.js'));
const { snapshot } = await import(path.join(tmp, 'src/kernel/snapshot.js'));
const { readMapsTable } = await import(path.join(tmp, 'src/kernel/maps.js'));

// ── C baselines ────────────────────────────────────────────────────────────────────
const cc = (name) => {
  const exe = path.join(tmp, name);
  execFileSync('cc', ['-O2', '-o', exe, path.join(root, `bench/c/${name}.c`)]);
  return exe;
};
const mapsC = cc('maps_parse');
const pagemapC = cc('pagemap_pread');
const runC = (exe, args) => JSON.parse(execFileSync(exe, args.map(String), { encoding: 'utf8' }));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const must = (r, what) => {
  if (!r.ok) throw new Error(`${what}: errno ${r.errno}`);
  return r.value;
};
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_PRIVATE = 2;
const MAP_ANONYMOUS = 0x20;
const MAP_NORESERVE = 0x4000;
const MADV_POPULATE_WRITE = 23;

// ── 1. maps of a 60,000-VMA process ────────────────────────────────────────────────
// Like for like: both sides read the same idle single-threaded target (bench/c/maps_target.c),
// so they parse the same bytes every round and neither reads an mm that Node's own threads
// are changing. Rounds alternate which side goes first (ABBA), so drift and cache effects of
// the previous reader hit both alike; the ratio is computed per round and reported as the
// median with its spread.
const N = 60_000n;
const target = spawn(cc('maps_target'), [String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  target.stdout.once('data', resolve);
  target.once('exit', (code) => reject(new Error(`maps_target exited with ${code}`)));
});
const tpid = target.pid;
const vmaCount = must(native.mapsRead(tpid), 'mapsRead').count;
const cVmas = runC(mapsC, [tpid, 1]).vmas;
if (cVmas !== vmaCount) throw new Error(`C parsed ${cVmas} VMAs, the addon ${vmaCount}`);

const mapsRounds = {
  c: [],
  addon: [],
  ratio: [],
  cRead: [],
  cParse: [],
  addonParse: [],
  entries: [],
};
// Where the time goes: the same text parsed without the read (C: parseMs; addon: mapsParse
// over captured bytes, JS buffers and the result object included).
const text = readFileSync(`/proc/${tpid}/maps`);
const addonRound = () => {
  const one = [];
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    native.mapsRead(tpid);
    one.push(ms(t0));
  }
  return median(one);
};
for (let r = 0; r < ROUNDS; r++) {
  let a;
  if (r % 2) a = addonRound();
  const c = runC(mapsC, [tpid, 5]);
  if (!(r % 2)) a = addonRound();
  mapsRounds.c.push(c.medianMs);
  mapsRounds.cRead.push(c.readMs);
  mapsRounds.cParse.push(c.parseMs);
  mapsRounds.addon.push(a);
  mapsRounds.ratio.push(a / c.medianMs);
  const p = [];
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    native.mapsParse(text);
    p.push(ms(t0));
  }
  mapsRounds.addonParse.push(median(p));
}
// For information: the same plus an entry object per VMA.
for (let r = 0; r < 5; r++) {
  const t0 = process.hrtime.bigint();
  must(readMapsTable(tpid), 'readMapsTable').entries();
  mapsRounds.entries.push(ms(t0));
}
target.stdin.end();

// The window for the snapshot: a 64-VMA stretch inside 60,000 VMAs of this process.
const region = must(
  native.mmap(
    0n,
    N * PS,
    BigInt(PROT_READ | PROT_WRITE),
    BigInt(MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE),
    -1n,
    0n,
  ),
  'mmap 60000 pages',
);
for (let i = 1n; i < N; i += 2n)
  must(native.mprotect(region + i * PS, PS, BigInt(PROT_READ)), 'mprotect');

// ── 2. snapshot of a 64-VMA window ─────────────────────────────────────────────────
const wStart = region + 30_000n * PS;
const wEnd = wStart + 64n * PS;
for (let i = 0n; i < 64n; i += 2n) must(native.writeTag(0, wStart + i * PS, i), 'writeTag');
const snap = snapshot(process.pid, wStart, wEnd);
if (snap.vmas.length !== 64 || snap.pages.filter((p) => p.present).length !== 32) {
  throw new Error(`unexpected window: ${snap.vmas.length} VMAs`);
}
for (let k = 0; k < 200; k++) snapshot(process.pid, wStart, wEnd);
const snapTimes = { full: [], noPages: [] };
for (let r = 0; r < ROUNDS; r++) {
  const a = [];
  const b = [];
  for (let k = 0; k < 100; k++) {
    let t0 = process.hrtime.bigint();
    snapshot(process.pid, wStart, wEnd);
    a.push(ms(t0));
    t0 = process.hrtime.bigint();
    snapshot(process.pid, wStart, wEnd, { pages: false });
    b.push(ms(t0));
  }
  snapTimes.full.push(median(a));
  snapTimes.noPages.push(median(b));
}
must(native.munmap(region, N * PS), 'munmap');

// ── 3. pagemap of a populated 1 GiB ────────────────────────────────────────────────
const GIB = 1n << 30n;
const COUNT = Number(GIB / PS);
const big = must(
  native.mmap(
    0n,
    GIB,
    BigInt(PROT_READ | PROT_WRITE),
    BigInt(MAP_PRIVATE | MAP_ANONYMOUS),
    -1n,
    0n,
  ),
  'mmap 1 GiB',
);
// MADV_NOHUGEPAGE (15) so the range is 262,144 PTE-mapped pages whatever the THP mode.
native.madvise(big, GIB, 15n);
must(native.madvise(big, GIB, BigInt(MADV_POPULATE_WRITE)), 'MADV_POPULATE_WRITE');
const fd = must(native.procOpen(process.pid, 'pagemap'), 'open pagemap');
const state = new Uint8Array(COUNT);
const pfn = new Float64Array(COUNT);
const raw = new BigUint64Array(COUNT);
const pm = { c: [], decode: [], raw: [], ratio: [] };
for (let r = 0; r < ROUNDS; r++) {
  const c = runC(pagemapC, [process.pid, big.toString(16), COUNT, 5]);
  pm.c.push(c.medianMs);
  const d = [];
  const w = [];
  for (let k = 0; k < 5; k++) {
    let t0 = process.hrtime.bigint();
    must(native.pagemapDecode(fd, big, COUNT, state, pfn), 'pagemapDecode');
    d.push(ms(t0));
    t0 = process.hrtime.bigint();
    must(native.pagemapRead(fd, big, COUNT, raw), 'pagemapRead');
    w.push(ms(t0));
  }
  pm.decode.push(median(d));
  pm.raw.push(median(w));
  pm.ratio.push(median(d) / c.medianMs);
}
const presentC = runC(pagemapC, [process.pid, big.toString(16), COUNT, 1]).present;
const presentAddon = state.reduce((a, s) => a + (s & 1), 0);
native.procClose(fd);
native.munmap(big, GIB);

rmSync(tmp, { recursive: true, force: true });

// ── report ─────────────────────────────────────────────────────────────────────────
// Ratios are the median of the per-round ratios (both sides measured back to back), with
// the lowest–highest round and the quartiles as the spread; never a best-of.
const f = (x) => x.toFixed(3);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};
const spread = (xs) => ({
  median: median(xs),
  q1: quantile(xs, 0.25),
  q3: quantile(xs, 0.75),
  min: Math.min(...xs),
  max: Math.max(...xs),
});
const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const showSpread = (s) =>
  `${f(s.median)} (quartiles ${f(s.q1)}–${f(s.q3)}, range ${f(s.min)}–${f(s.max)})`;
const result = {
  kernel: native.unameRelease(),
  rounds: ROUNDS,
  loadAtStart,
  loadAtEnd: load(),
  maps: {
    vmas: vmaCount,
    reader: 'both read /proc/PID/maps of bench/c/maps_target.c',
    cReadParseMs: median(mapsRounds.c),
    cReadMs: median(mapsRounds.cRead),
    cParseMs: median(mapsRounds.cParse),
    addonReadParseMs: median(mapsRounds.addon),
    addonParseMs: median(mapsRounds.addonParse),
    ratio: spread(mapsRounds.ratio),
    target: '<= 1.2',
    withEntryObjectsMs: median(mapsRounds.entries),
  },
  snapshot64: {
    withPagesMs: median(snapTimes.full),
    vmasOnlyMs: median(snapTimes.noPages),
    target: '< 0.5 ms',
    source: snap.vmaSource,
    pageInfo: snap.pageInfo,
  },
  pagemap1GiB: {
    entries: COUNT,
    present: { c: presentC, addon: presentAddon },
    cPreadMs: median(pm.c),
    addonReadDecodeMs: median(pm.decode),
    addonRawPreadMs: median(pm.raw),
    ratio: spread(pm.ratio),
    target: '<= 1.25',
  },
};
if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  const m = result.maps;
  const p = result.pagemap1GiB;
  process.stdout.write(
    [
      `kernel ${result.kernel}, ${ROUNDS} rounds, load average ${loadAtStart.join(' ')} at the start, ${result.loadAtEnd.join(' ')} at the end`,
      `maps read+parse, ${vmaCount} VMAs of one idle target: C ${f(m.cReadParseMs)} ms (read ${f(m.cReadMs)}, parse ${f(m.cParseMs)}), addon ${f(m.addonReadParseMs)} ms (parse ${f(m.addonParseMs)}); ratio ${showSpread(m.ratio)} (target <= 1.2); with entry objects ${f(m.withEntryObjectsMs)} ms`,
      `snapshot of a 64-VMA window (${snap.vmaSource}, ${snap.pageInfo}): ${f(result.snapshot64.withPagesMs)} ms with pages, ${f(result.snapshot64.vmasOnlyMs)} ms VMAs only (target < 0.5 ms)`,
      `pagemap 1 GiB (${COUNT} entries, ${presentAddon} present): C pread ${f(p.cPreadMs)} ms, addon pread+decode ${f(p.addonReadDecodeMs)} ms; ratio ${showSpread(p.ratio)} (target <= 1.25); addon raw pread ${f(p.addonRawPreadMs)} ms`,
    ].join('\n') + '\n',
  );
}
