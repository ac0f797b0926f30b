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
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const ts = require('typescript');
const ROUNDS = Number(process.env.ROUNDS ?? 21);
const PS = 4096n;

// ── transpile the observation modules ──────────────────────────────────────────────
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mrl-bench-observe-'));
const sources = [
  'src/native.ts',
  'src/space/result.ts',
  'src/space/errno.ts',
  'src/space/constants.ts',
  'src/space/address-space.ts',
  'src/kernel/maps.ts',
  'src/kernel/procmap-query.ts',
  'src/kernel/pagemap.ts',
  'src/kernel/pagemap-scan.ts',
  'src/kernel/kpageflags.ts',
  'src/kernel/smaps.ts',
  'src/kernel/vmflags.ts',
  'src/kernel/snapshot.ts',
];
for (const s of sources) {
  const out = ts.transpileModule(readFileSync(path.join(root, s), 'utf8'), {
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

// ── 1. a 60,000-VMA process ────────────────────────────────────────────────────────
const N = 60_000n;
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
// rw- / r-- alternating: every other page mprotected read-only splits the VMA each time.
for (let i = 1n; i < N; i += 2n)
  must(native.mprotect(region + i * PS, PS, BigInt(PROT_READ)), 'mprotect');
const vmaCount = must(native.mapsRead(process.pid), 'mapsRead').count;

const mapsRounds = { c: [], addon: [], cMin: Infinity, addonMin: Infinity, entries: [] };
for (let r = 0; r < ROUNDS; r++) {
  const c = runC(mapsC, [process.pid, 5]);
  mapsRounds.c.push(c.medianMs);
  mapsRounds.cMin = Math.min(mapsRounds.cMin, c.minMs);
  const one = [];
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    native.mapsRead(process.pid);
    one.push(ms(t0));
  }
  mapsRounds.addon.push(median(one));
  mapsRounds.addonMin = Math.min(mapsRounds.addonMin, ...one);
}
// For information: the same plus an entry object per VMA.
for (let r = 0; r < 5; r++) {
  const t0 = process.hrtime.bigint();
  must(readMapsTable(process.pid), 'readMapsTable').entries();
  mapsRounds.entries.push(ms(t0));
}

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
const pm = { c: [], decode: [], raw: [], cMin: Infinity, decodeMin: Infinity };
for (let r = 0; r < ROUNDS; r++) {
  const c = runC(pagemapC, [process.pid, big.toString(16), COUNT, 5]);
  pm.c.push(c.medianMs);
  pm.cMin = Math.min(pm.cMin, c.minMs);
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
  pm.decodeMin = Math.min(pm.decodeMin, ...d);
  pm.raw.push(median(w));
}
const presentC = runC(pagemapC, [process.pid, big.toString(16), COUNT, 1]).present;
const presentAddon = state.reduce((a, s) => a + (s & 1), 0);
native.procClose(fd);
native.munmap(big, GIB);

rmSync(tmp, { recursive: true, force: true });

// ── report ─────────────────────────────────────────────────────────────────────────
const f = (x) => x.toFixed(3);
const mC = median(mapsRounds.c);
const mA = median(mapsRounds.addon);
const pC = median(pm.c);
const pD = median(pm.decode);
const result = {
  kernel: native.unameRelease(),
  rounds: ROUNDS,
  maps: {
    vmas: vmaCount,
    cReadParseMs: mC,
    addonReadParseMs: mA,
    ratio: mA / mC,
    minRatio: mapsRounds.addonMin / mapsRounds.cMin,
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
    cPreadMs: pC,
    addonReadDecodeMs: pD,
    addonRawPreadMs: median(pm.raw),
    ratio: pD / pC,
    minRatio: pm.decodeMin / pm.cMin,
    target: '<= 1.25',
  },
};
if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  process.stdout.write(
    [
      `kernel ${result.kernel}, ${ROUNDS} rounds (medians)`,
      `maps read+parse, ${vmaCount} VMAs: C ${f(mC)} ms, addon ${f(mA)} ms, ratio ${f(mA / mC)} (best-of ${f(result.maps.minRatio)}; target <= 1.2); with entry objects ${f(result.maps.withEntryObjectsMs)} ms`,
      `snapshot of a 64-VMA window (${snap.vmaSource}, ${snap.pageInfo}): ${f(result.snapshot64.withPagesMs)} ms with pages, ${f(result.snapshot64.vmasOnlyMs)} ms VMAs only (target < 0.5 ms)`,
      `pagemap 1 GiB (${COUNT} entries, ${presentAddon} present): C pread ${f(pC)} ms, addon pread+decode ${f(pD)} ms, ratio ${f(pD / pC)} (best-of ${f(result.pagemap1GiB.minRatio)}; target <= 1.25); addon raw pread ${f(result.pagemap1GiB.addonRawPreadMs)} ms`,
    ].join('\n') + '\n',
  );
}
