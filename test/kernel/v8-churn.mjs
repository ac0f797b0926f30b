// Arena churn while V8 allocates heavily, run as its own process by v8-proof.test.ts (it
// must survive its own exit handler). V8 puts large objects (over 128 KiB) on pages mmapped
// at random hints over the whole 47-bit space, the arenas' range included: if an arena ever
// left a hole, V8 could land in it. After every operation this checks /proc/self/maps: no
// page of any arena is a hole, and every mapping in an arena is a placeholder or one this
// script made. Prints one JSON line; exit code 0 unless the process itself dies.
import { Arena } from '../../dist/kernel/arena.js';
import { KernelSpace } from '../../dist/kernel/kernel-space.js';
import { isHoleName } from '../../dist/kernel/holes.js';
import { readMaps } from '../../dist/kernel/maps.js';
import { gaps, RangeSet } from '../../dist/kernel/ranges.js';
import { MAP, MREMAP, PAGE_SIZE, PROT } from '../../dist/space/constants.js';

const OPS = Number(process.argv[2] ?? 300);
const ARRAYS = Number(process.argv[3] ?? 2000);
const P = PAGE_SIZE;
const ANON_FIXED = MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED;

// A 1 TiB empty arena (the size that took in 43 V8 mappings) and a small scenario-sized one.
const arenas = [
  Arena.reserve({ size: 1n << 40n, align: 1n << 30n, interior: 'empty' }),
  Arena.reserve({ size: 512n * P, interior: 'empty' }),
];
const sides = arenas.map((a) => ({ arena: a, space: new KernelSpace(a), ours: new RangeSet() }));

// Deterministic pseudo-random choices (xorshift32).
let seed = 0x9e3779b9;
function rnd(n) {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed % n;
}

const violations = [];
function check(op) {
  const maps = readMaps(process.pid);
  if (!maps.ok) throw new Error(`maps: ${maps.code}`);
  for (const s of sides) {
    const { start, end } = s.arena;
    const inside = maps.value.filter((v) => v.end > start && v.start < end);
    for (const g of gaps(start, end, inside)) violations.push({ op, hole: [g.start, g.end] });
    for (const v of inside) {
      if (isHoleName(v.name)) continue;
      const vs = v.start < start ? start : v.start;
      const ve = v.end > end ? end : v.end;
      if (!s.ours.covers(vs, ve)) violations.push({ op, foreign: [vs, ve], name: v.name });
    }
  }
}

const keep = [];
let allocated = 0;
function allocate(n) {
  for (let i = 0; i < n && allocated < ARRAYS; i++, allocated++) {
    // 32768 doubles = 256 KiB: a large object, on its own V8 page at a random hint.
    keep.push(new Array(32768).fill(allocated + 0.5));
    if (keep.length > 200) keep.splice(0, 100);
  }
  if (globalThis.gc) globalThis.gc();
}

for (let op = 0; op < OPS; op++) {
  allocate(Math.ceil(ARRAYS / OPS) + 1);
  const s = sides[op % sides.length];
  const pages = s.arena === arenas[0] ? 2048 : 512;
  const a = s.arena.page(rnd(pages - 16));
  const n = BigInt(1 + rnd(8));
  switch (rnd(6)) {
    case 0:
    case 1: {
      const r = s.space.map({
        addr: a,
        length: n * P,
        prot: PROT.READ | PROT.WRITE,
        flags: ANON_FIXED,
      });
      if (r.ok) s.ours.add(a, a + n * P);
      s.space.touch(a, BigInt(op));
      break;
    }
    case 2:
      if (s.space.unmap(a, n * P).ok) s.ours.remove(a, a + n * P);
      break;
    case 3: {
      const to = s.arena.page(rnd(pages - 16));
      const r = s.space.remap({
        addr: a,
        oldLen: n * P,
        newLen: n * P,
        flags: MREMAP.MAYMOVE | MREMAP.FIXED,
        newAddr: to,
      });
      if (r.ok) {
        s.ours.remove(a, a + n * P);
        s.ours.add(to, to + n * P);
      }
      break;
    }
    case 4: {
      // Growth in place needs a real hole next to the source: the placeholder comes out
      // for the call and goes back right after.
      const r = s.space.remap({ addr: a, oldLen: P, newLen: (n + 1n) * P, flags: 0n, newAddr: 0n });
      if (r.ok) s.ours.add(a, a + (n + 1n) * P);
      break;
    }
    default:
      if (rnd(4) === 0) {
        s.arena.reset('empty');
        s.ours.clear();
      } else {
        s.space.protect(a, n * P, PROT.READ);
      }
  }
  check(op);
}
allocate(ARRAYS);
check(OPS);

// V8 mappings in the arenas' span [16 TiB, 64 TiB): there were some, just never inside.
const maps = readMaps(process.pid);
const lo = 0x1000_0000_0000n;
const hi = 0x4000_0000_0000n;
const nearby = maps.ok
  ? maps.value.filter((v) => v.start >= lo && v.end <= hi && !isHoleName(v.name)).length
  : -1;
process.stdout.write(
  `${JSON.stringify({ ops: OPS, arrays: allocated, violations: violations.slice(0, 5).map((v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x))), count: violations.length, nearby })}\n`,
);
// Arenas are released by the exit handler: it must unmap only what is theirs.
