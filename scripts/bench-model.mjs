#!/usr/bin/env node
// Throughput and memory of the reference model (src/model). Runs against the compiled model:
//   npx tsc -p tsconfig.build.json && node --expose-gc scripts/bench-model.mjs [distDir]
// Targets (issue 4): ≥200,000 mremap/mprotect ops/s with 1,000 VMAs; ≤2× slower per op with
// 60,000 VMAs; ≤1 KiB heap per VMA.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const dist = path.resolve(process.argv[2] ?? 'dist');
const { ModelSpace } = await import(pathToFileURL(path.join(dist, 'model/address-space.js')).href);

const P = 4096n;
const BASE = 0x100000000n;
const STRIDE = 8n * P; // 4-page VMA + 4-page gap: neighbours never merge
const ANON = 0x02 | 0x20 | 0x10;

function build(n, trace) {
  const s = new ModelSpace({ profile: 'linux-6.18', trace, maxMapCount: 1 << 30 });
  for (let i = 0n; i < BigInt(n); i++) {
    const r = s.map({ addr: BASE + i * STRIDE, length: 4n * P, prot: 3, flags: ANON });
    if (!r.ok) throw new Error(`map failed: ${r.code}`);
  }
  return s;
}

/** One "op" = one syscall: mprotect split/merge pairs and mremap move-away/move-back pairs. */
function run(s, n, ops) {
  const far = BASE + BigInt(n) * STRIDE + 0x10000000n;
  let x = 12345;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < ops; k += 4) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const a = BASE + BigInt(x % n) * STRIDE;
    if (!s.protect(a + P, P, 1).ok) throw new Error('protect');
    if (!s.protect(a + P, P, 3).ok) throw new Error('protect back');
    if (!s.remap({ addr: a, oldLen: 4n * P, newLen: 4n * P, flags: 3, newAddr: far }).ok)
      throw new Error('remap');
    if (!s.remap({ addr: far, oldLen: 4n * P, newLen: 4n * P, flags: 3, newAddr: a }).ok)
      throw new Error('remap back');
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { opsPerSec: Math.round((ops / ns) * 1e9), nsPerOp: ns / ops };
}

function heapPerVma(n) {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const s = build(n, false);
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  if (s.mapCount !== n) throw new Error('count');
  return (after - before) / n;
}

const OPS = 400_000;
const rows = [];
for (const trace of [false, true]) {
  for (const n of [1_000, 60_000]) {
    const s = build(n, trace);
    run(s, n, 40_000); // warm-up
    const r = run(s, n, OPS);
    rows.push({ vmas: n, trace, ...r });
  }
}
for (const r of rows) {
  console.log(
    `${String(r.vmas).padStart(6)} VMAs, trace ${r.trace ? 'on ' : 'off'}: ${r.opsPerSec.toLocaleString('en')} ops/s (${r.nsPerOp.toFixed(0)} ns/op)`,
  );
}
const off = rows.filter((r) => !r.trace);
console.log(
  `slowdown 60,000 vs 1,000 VMAs (trace off): ${(off[1].nsPerOp / off[0].nsPerOp).toFixed(2)}×`,
);
if (globalThis.gc === undefined)
  console.log('heap per VMA: run with node --expose-gc for a figure');
else console.log(`heap per VMA (60,000 unfaulted VMAs): ${heapPerVma(60_000).toFixed(0)} bytes`);
