/**
 * Scenario validation with messages that name the JSON path and what is expected. The same
 * rules are published as a JSON Schema (scenarioJsonSchema(), written to
 * docs/scenario.schema.json by `npm run schema`; a test fails while that file is stale).
 */
import { checkAddrExpr, checkLenExpr, parseAlign, ScenarioInputError } from './address.js';
import { checkScenarioAtLoad } from './load-checks.js';
import type { FlagSpec } from '../space/flags.js';
import { UFFD_FEATURE } from '../space/constants.js';
import {
  parseAdvice,
  parseFlags,
  parseProt,
  parseUffdFeatures,
  parseUffdMode,
} from './steps/fields.js';
import { KNOWN_FEATURES, LOAD_FAULTS, type Scenario } from './types.js';
import { rangeError } from './kernel-range.js';
import { checkSysctls } from './sysctls.js';

type Obj = Record<string, unknown>;

const STEP_FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  map: {
    required: ['at', 'len'],
    optional: [
      'name',
      'prot',
      'kind',
      'placement',
      'noreserve',
      'populate',
      'locked',
      'hugetlb',
      'growsdown',
      'file',
      'offset',
    ],
  },
  memfd: { required: ['name', 'pages'], optional: ['tags'] },
  file: { required: ['name', 'pages'], optional: ['tags'] },
  munmap: { required: ['at', 'len'], optional: [] },
  mseal: { required: ['at', 'len'], optional: [] },
  uffd: { required: ['at', 'len'], optional: ['features', 'mode', 'kernelFaults'] },
  munlock: { required: ['at', 'len'], optional: [] },
  mlock: { required: ['at', 'len'], optional: ['onfault'] },
  mprotect: { required: ['at', 'len', 'prot'], optional: ['growsdown'] },
  madvise: { required: ['at', 'len', 'advice'], optional: [] },
  mremap: { required: ['at', 'oldLen', 'newLen'], optional: ['flags', 'to', 'name'] },
  touch: { required: ['at'], optional: ['pages', 'tag'] },
  read: { required: ['at'], optional: ['pages'] },
  fork: { required: [], optional: ['name'] },
  'fork-continue': { required: [], optional: ['name'] },
  release: { required: ['child'], optional: [] },
  check: { required: [], optional: [] },
};
const COMMON = ['op', 'note', 'expect'];
const EXPECT_FIELDS = [
  'kernels',
  'window',
  'errno',
  'ok',
  'ret',
  'vmas',
  'vmaCount',
  'merged',
  'separate',
  'tags',
  'present',
  'vmFlags',
  'thp',
];

/** The spellings of every allowed arena alignment (space/arena-align.ts): 4K … 1048576K, 1M … 1024M, 1G. */
const KINDS = ['anon', 'shared', 'memfd', 'memfd-private', 'file', 'file-private'];

const ALIGN_PATTERN = (() => {
  const pow = (from: number, to: number): string[] => {
    const out: string[] = [];
    for (let v = from; v <= to; v *= 2) out.push(String(v));
    return out;
  };
  return `^(0*(${pow(4, 1 << 20).join('|')})[Kk]|0*(${pow(1, 1024).join('|')})[Mm]|0*1[Gg])$`;
})();

function fail(path: string, msg: string): never {
  throw new ScenarioInputError(msg, path);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj, k: string, path: string, required = true): void {
  if (o[k] === undefined && !required) return;
  if (typeof o[k] !== 'string' || (o[k] as string).length === 0)
    fail(`${path}.${k}`, 'expected a non-empty string');
}

function int(o: Obj, k: string, path: string, min = 0): void {
  const v = o[k];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    fail(`${path}.${k}`, `expected a whole number ≥ ${min}`);
}

function bool(o: Obj, k: string, path: string): void {
  if (o[k] !== undefined && typeof o[k] !== 'boolean')
    fail(`${path}.${k}`, 'expected true or false');
}

function onlyKeys(o: Obj, allowed: string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      fail(`${path}.${k}`, `unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

function addrMap(v: unknown, path: string, check: (x: unknown, p: string) => void): void {
  if (!isObj(v)) fail(path, 'expected an object mapping addresses to values');
  for (const [k, x] of Object.entries(v)) {
    checkAddrExpr(k, `${path}["${k}"]`);
    check(x, `${path}["${k}"]`);
  }
}

function checkWindow(w: unknown, path: string): void {
  if (!isObj(w)) fail(path, 'expected {"from": addr, "to": addr}');
  onlyKeys(w, ['from', 'to'], path);
  for (const k of ['from', 'to']) {
    if (w[k] === undefined) fail(`${path}.${k}`, `a window needs "${k}"`);
    checkAddrExpr(w[k], `${path}.${k}`);
  }
}

/** A file's initial contents: page index → tag, each page inside the file. */
function checkFileTags(t: unknown, pages: number, path: string): void {
  if (!isObj(t)) fail(path, 'expected an object mapping page indexes ("0", "3") to tags');
  for (const [k, x] of Object.entries(t)) {
    if (!/^(0|[1-9]\d*)$/.test(k) || Number(k) >= pages)
      fail(
        `${path}["${k}"]`,
        `expected a page index from 0 to ${pages - 1} (the file has ${pages} pages)`,
      );
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
      fail(`${path}["${k}"]`, 'expected a tag: a whole number ≥ 0');
  }
}

function checkExpects(e: unknown, path: string): void {
  if (!Array.isArray(e)) return checkExpect(e, path);
  if (e.length === 0) fail(path, 'expected an expectation object or a non-empty array of them');
  e.forEach((x: unknown, i: number) => checkExpect(x, `${path}[${i}]`));
}

function checkExpect(e: unknown, path: string): void {
  if (!isObj(e)) fail(path, 'expected an object');
  onlyKeys(e, EXPECT_FIELDS, path);
  if (e['kernels'] !== undefined) {
    if (typeof e['kernels'] !== 'string')
      fail(`${path}.kernels`, 'expected a string like ">=6.17"');
    const why = rangeError(e['kernels']);
    if (why !== null) fail(`${path}.kernels`, why);
  }
  if (
    e['errno'] !== undefined &&
    (typeof e['errno'] !== 'string' || !/^E[A-Z0-9]+$/.test(e['errno']))
  ) {
    fail(`${path}.errno`, 'expected an errno name such as "EINVAL"');
  }
  if (e['window'] !== undefined) checkWindow(e['window'], `${path}.window`);
  bool(e, 'ok', path);
  if (e['ret'] !== undefined) checkAddrExpr(e['ret'], `${path}.ret`);
  int(e, 'vmaCount', path);
  if (e['vmas'] !== undefined) {
    if (!Array.isArray(e['vmas'])) fail(`${path}.vmas`, 'expected an array of {start, end, prot?}');
    e['vmas'].forEach((v: unknown, i: number) => {
      const p = `${path}.vmas[${i}]`;
      if (!isObj(v)) fail(p, 'expected {start, end, prot?}');
      onlyKeys(v, ['start', 'end', 'prot'], p);
      checkAddrExpr(v['start'], `${p}.start`);
      checkAddrExpr(v['end'], `${p}.end`);
      if (
        v['prot'] !== undefined &&
        (typeof v['prot'] !== 'string' || !/^[r-][w-][x-][ps]?$/.test(v['prot']))
      ) {
        fail(`${p}.prot`, 'expected a maps-style protection such as "rw-" or "r--p"');
      }
    });
  }
  for (const k of ['merged', 'separate']) {
    const v = e[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length < 2)
      fail(`${path}.${k}`, 'expected an array of at least two addresses');
    v.forEach((x: unknown, i: number) => checkAddrExpr(x, `${path}.${k}[${i}]`));
  }
  if (e['tags'] !== undefined) {
    addrMap(e['tags'], `${path}.tags`, (x, p) => {
      if (!(
        typeof x === 'number' ||
        x === 'zero' ||
        x === 'fault' ||
        LOAD_FAULTS.includes(x as string)
      ))
        fail(
          p,
          `expected a tag number, "zero", "fault" or one of ${LOAD_FAULTS.map((f) => `"${f}"`).join(', ')}`,
        );
    });
  }
  for (const k of ['present', 'thp']) {
    if (e[k] !== undefined)
      addrMap(
        e[k],
        `${path}.${k}`,
        (x, p) => typeof x !== 'boolean' && fail(p, 'expected true or false'),
      );
  }
  if (e['vmFlags'] !== undefined) {
    addrMap(e['vmFlags'], `${path}.vmFlags`, (x, p) => {
      if (!Array.isArray(x) || !x.every((f) => typeof f === 'string' && /^!?[a-z]{2}$/.test(f))) {
        fail(p, 'expected an array of two-letter VmFlags such as ["ac", "!lo"]');
      }
    });
  }
}

function checkStep(s: unknown, path: string, sawContinue: boolean): boolean {
  if (!isObj(s)) fail(path, 'expected a step object with an "op"');
  const op = s['op'];
  if (typeof op !== 'string' || !(op in STEP_FIELDS)) {
    fail(`${path}.op`, `expected one of ${Object.keys(STEP_FIELDS).join(', ')}`);
  }
  const spec = STEP_FIELDS[op]!;
  onlyKeys(s, [...COMMON, ...spec.required, ...spec.optional], path);
  for (const k of spec.required)
    if (s[k] === undefined) fail(`${path}.${k}`, `"${op}" needs "${k}"`);
  for (const k of ['at', 'to']) if (s[k] !== undefined) checkAddrExpr(s[k], `${path}.${k}`);
  for (const k of ['len', 'oldLen', 'newLen'])
    if (s[k] !== undefined) checkLenExpr(s[k], `${path}.${k}`);
  for (const k of ['name', 'child', 'file', 'note']) if (s[k] !== undefined) str(s, k, path);
  for (const k of ['pages', 'offset']) int(s, k, path);
  int(s, 'tag', path);
  for (const k of [
    'noreserve',
    'populate',
    'locked',
    'onfault',
    'hugetlb',
    'growsdown',
    'kernelFaults',
  ])
    bool(s, k, path);
  if (s['prot'] !== undefined) {
    if (typeof s['prot'] !== 'string') fail(`${path}.prot`, 'expected letters r, w, x or "none"');
    parseProt(s['prot'], `${path}.prot`);
  }
  if (s['kind'] !== undefined && !KINDS.includes(s['kind'] as string)) {
    fail(`${path}.kind`, `expected one of ${KINDS.map((k) => `"${k}"`).join(', ')}`);
  }
  const kind = (s['kind'] as string | undefined) ?? 'anon';
  if (kind !== 'anon' && kind !== 'shared' && s['file'] === undefined) {
    const maker = kind.startsWith('file') ? 'file' : 'memfd';
    fail(`${path}.file`, `a ${kind} mapping needs "file": the name of an earlier ${maker} step`);
  }
  if (s['tags'] !== undefined) checkFileTags(s['tags'], s['pages'] as number, `${path}.tags`);
  if (
    s['placement'] !== undefined &&
    !['fixed', 'noreplace', 'hint'].includes(s['placement'] as string)
  ) {
    fail(`${path}.placement`, 'expected "fixed", "noreplace" or "hint"');
  }
  if (s['flags'] !== undefined) parseFlags(s['flags'] as FlagSpec, `${path}.flags`);
  if (s['advice'] !== undefined) parseAdvice(s['advice'] as string | number, `${path}.advice`);
  if (s['features'] !== undefined) parseUffdFeatures(s['features'], `${path}.features`);
  if (s['mode'] !== undefined) parseUffdMode(s['mode'], `${path}.mode`);
  if (s['expect'] !== undefined) checkExpects(s['expect'], `${path}.expect`);
  // The child made by fork-continue runs syscalls the parent sends it (memfd and userfaultfd
  // included); it cannot fork again, nor make a disk file.
  if (sawContinue && ['file', 'fork', 'fork-continue'].includes(op)) {
    fail(
      `${path}.op`,
      `"${op}" cannot run inside the child after fork-continue; move it before the fork`,
    );
  }
  return sawContinue || op === 'fork-continue';
}

/** Validates parsed JSON as a Scenario; throws ScenarioInputError naming the path. */
export function validateScenario(v: unknown): Scenario {
  const path = '$';
  if (!isObj(v)) fail(path, 'expected a scenario object');
  onlyKeys(
    v,
    [
      '$schema',
      'id',
      'title',
      'source',
      'tags',
      'requires',
      'arena',
      'window',
      'compareVmFlags',
      'sysctls',
      'user',
      'rlimits',
      'steps',
    ],
    path,
  );
  str(v, 'id', path);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(v['id'] as string))
    fail('$.id', 'expected lower-case letters, digits, ".", "_" or "-"');
  str(v, 'title', path);
  str(v, 'source', path);
  if (
    v['tags'] !== undefined &&
    (!Array.isArray(v['tags']) || !v['tags'].every((t) => typeof t === 'string'))
  ) {
    fail('$.tags', 'expected an array of strings');
  }
  const r = v['requires'];
  if (r !== undefined) {
    if (!isObj(r)) fail('$.requires', 'expected an object');
    onlyKeys(r, ['minKernel', 'features', 'profiles'], '$.requires');
    if (
      r['minKernel'] !== undefined &&
      (typeof r['minKernel'] !== 'string' || !/^\d+\.\d+(\.\d+)?$/.test(r['minKernel']))
    ) {
      fail('$.requires.minKernel', 'expected a version like "6.17" or "6.12.40"');
    }
    if (r['features'] !== undefined) {
      if (!Array.isArray(r['features'])) fail('$.requires.features', 'expected an array');
      r['features'].forEach((f: unknown, i: number) => {
        if (typeof f !== 'string' || !KNOWN_FEATURES.includes(f)) {
          fail(`$.requires.features[${i}]`, `expected one of ${KNOWN_FEATURES.join(', ')}`);
        }
      });
    }
    if (
      r['profiles'] !== undefined &&
      (!Array.isArray(r['profiles']) || !r['profiles'].every((p) => typeof p === 'string'))
    ) {
      fail('$.requires.profiles', 'expected an array of profile names');
    }
  }
  const a = v['arena'];
  if (!isObj(a)) fail('$.arena', 'expected {"pages": N, "align"?: "2M"}');
  onlyKeys(a, ['pages', 'align'], '$.arena');
  if (
    typeof a['pages'] !== 'number' ||
    !Number.isSafeInteger(a['pages']) ||
    a['pages'] < 1 ||
    a['pages'] > 1 << 20
  ) {
    fail('$.arena.pages', 'expected a whole number of pages from 1 to 1048576 (4 GiB)');
  }
  if (a['align'] !== undefined) {
    if (typeof a['align'] !== 'string') fail('$.arena.align', 'expected "4K", "2M" or "1G"');
    parseAlign(a['align'], '$.arena.align');
  }
  if (v['window'] !== undefined) checkWindow(v['window'], '$.window');
  bool(v, 'compareVmFlags', path);
  if (v['sysctls'] !== undefined) checkSysctls(v['sysctls'], '$.sysctls');
  if (v['user'] !== undefined && v['user'] !== 'unprivileged')
    fail('$.user', 'expected "unprivileged" (or leave it out to run with the tool\'s credentials)');
  if (v['user'] !== undefined && v['sysctls'] !== undefined)
    fail('$.sysctls', 'cannot be combined with "user": an unprivileged worker cannot set them');
  const rl = v['rlimits'];
  if (rl !== undefined) {
    if (!isObj(rl)) fail('$.rlimits', 'expected {"memlock": pages or "Nb"}');
    onlyKeys(rl, ['memlock'], '$.rlimits');
    if (rl['memlock'] !== undefined) checkLenExpr(rl['memlock'], '$.rlimits.memlock');
  }
  if (!Array.isArray(v['steps']) || v['steps'].length === 0)
    fail('$.steps', 'expected a non-empty array of steps');
  let cont = false;
  v['steps'].forEach((s: unknown, i: number) => {
    cont = checkStep(s, `$.steps[${i}]`, cont);
  });
  checkScenarioAtLoad(v as unknown as Scenario);
  return v as unknown as Scenario;
}

/** The JSON Schema published for editors and other tools (docs/scenario.schema.json). */
export function scenarioJsonSchema(): object {
  const addr = {
    type: 'string',
    description: '"@N", "name", "name+K", "…+Nb" (decimal bytes) or "=0x…"',
  };
  const len = {
    oneOf: [
      { type: 'integer', minimum: 0, description: 'pages' },
      { type: 'string', pattern: '^-?\\d+b$', description: 'decimal bytes' },
    ],
  };
  const addrMapOf = (value: object) => ({ type: 'object', additionalProperties: value });
  const window = {
    type: 'object',
    additionalProperties: false,
    required: ['from', 'to'],
    properties: { from: addr, to: addr },
  };
  const expectOne = {
    type: 'object',
    additionalProperties: false,
    properties: {
      kernels: {
        type: 'string',
        pattern: '^\\s*((>=|<=|>|<|=)?\\d+\\.\\d+(\\.\\d+)?\\s*)+$',
        description:
          'kernel versions this expectation holds for, e.g. ">=6.17" or ">=6.7 <6.16"; checked per side (kernel release, model profile version)',
      },
      window: {
        ...window,
        description: 'the range vmas and vmaCount speak of (default: the scenario window)',
      },
      errno: { type: 'string', pattern: '^E[A-Z0-9]+$' },
      ok: { type: 'boolean' },
      ret: addr,
      vmas: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['start', 'end'],
          properties: { start: addr, end: addr, prot: { type: 'string' } },
        },
      },
      vmaCount: { type: 'integer', minimum: 0 },
      merged: { type: 'array', items: addr, minItems: 2 },
      separate: { type: 'array', items: addr, minItems: 2 },
      tags: addrMapOf({
        oneOf: [{ type: 'integer' }, { enum: ['zero', 'fault', ...LOAD_FAULTS] }],
      }),
      present: addrMapOf({ type: 'boolean' }),
      thp: addrMapOf({ type: 'boolean' }),
      vmFlags: addrMapOf({ type: 'array', items: { type: 'string', pattern: '^!?[a-z]{2}$' } }),
    },
  };
  const one = { $ref: '#/$defs/expect' };
  const expect = { oneOf: [one, { type: 'array', minItems: 1, items: one }] };
  const fieldSchema: Record<string, object> = {
    at: addr,
    to: addr,
    len,
    oldLen: len,
    newLen: len,
    name: { type: 'string' },
    child: { type: 'string' },
    file: { type: 'string' },
    prot: { type: 'string' },
    kind: { enum: KINDS },
    placement: { enum: ['fixed', 'noreplace', 'hint'] },
    noreserve: { type: 'boolean' },
    populate: { type: 'boolean' },
    locked: { type: 'boolean' },
    hugetlb: { type: 'boolean' },
    growsdown: { type: 'boolean' },
    onfault: { type: 'boolean' },
    kernelFaults: { type: 'boolean' },
    offset: { type: 'integer', minimum: 0 },
    pages: { type: 'integer', minimum: 0 },
    tag: { type: 'integer', minimum: 0 },
    tags: {
      type: 'object',
      description: 'page index → tag written at its start before the file is mapped',
      propertyNames: { pattern: '^(0|[1-9][0-9]*)$' },
      additionalProperties: { type: 'integer', minimum: 0 },
    },
    flags: {
      oneOf: [
        { type: 'string' },
        { type: 'integer', minimum: 0 },
        { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] } },
      ],
    },
    advice: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
    features: {
      type: 'array',
      items: { enum: Object.keys(UFFD_FEATURE).filter((k) => k !== 'EVENT_FORK') },
      description:
        'UFFDIO_API features of a new userfaultfd (UFFD_FEATURE_ names without the prefix)',
    },
    mode: {
      oneOf: [
        { type: 'string', pattern: '^(missing|wp|minor)(\\|(missing|wp|minor))*$' },
        { type: 'array', minItems: 1, items: { enum: ['missing', 'wp', 'minor'] } },
      ],
      description: 'UFFDIO_REGISTER modes; default "missing"',
    },
  };
  const steps = Object.entries(STEP_FIELDS).map(([op, f]) => ({
    type: 'object',
    additionalProperties: false,
    required: ['op', ...f.required],
    properties: Object.fromEntries([
      ['op', { const: op }],
      ['note', { type: 'string' }],
      ['expect', expect],
      ...[...f.required, ...f.optional].map((k) => [k, fieldSchema[k] ?? {}]),
    ]),
  }));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://mremap-lab.invalid/scenario.schema.json',
    title: 'mremap-lab scenario',
    type: 'object',
    additionalProperties: false,
    required: ['id', 'title', 'source', 'arena', 'steps'],
    properties: {
      $schema: { type: 'string' },
      id: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
      title: { type: 'string' },
      source: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      requires: {
        type: 'object',
        additionalProperties: false,
        properties: {
          minKernel: { type: 'string', pattern: '^\\d+\\.\\d+(\\.\\d+)?$' },
          features: { type: 'array', items: { enum: KNOWN_FEATURES } },
          profiles: { type: 'array', items: { type: 'string' } },
        },
      },
      arena: {
        type: 'object',
        additionalProperties: false,
        required: ['pages'],
        properties: {
          pages: { type: 'integer', minimum: 1, maximum: 1048576 },
          align: { type: 'string', pattern: ALIGN_PATTERN },
        },
      },
      window,
      compareVmFlags: { type: 'boolean' },
      sysctls: {
        type: 'object',
        minProperties: 1,
        additionalProperties: false,
        description:
          'machine settings for this run, restored after it; needs root; the scenario runs alone',
        properties: {
          'vm.max_map_count': {
            oneOf: [
              { type: 'integer', minimum: 1 },
              {
                type: 'string',
                pattern: '^\\+\\d{1,6}$',
                description: 'N more than the VMAs of the process outside the arena',
              },
            ],
          },
          'vm.overcommit_memory': { type: 'integer', minimum: 0, maximum: 2 },
          'vm.nr_hugepages': { type: 'integer', minimum: 0, maximum: 4096 },
          'transparent_hugepage/enabled': { enum: ['always', 'madvise', 'never'] },
        },
      },
      user: {
        const: 'unprivileged',
        description: 'run the kernel side as nobody (uid/gid 65534), without capabilities',
      },
      rlimits: {
        type: 'object',
        additionalProperties: false,
        properties: { memlock: { ...len, description: 'RLIMIT_MEMLOCK soft limit' } },
      },
      steps: { type: 'array', minItems: 1, items: { oneOf: steps } },
    },
    $defs: { expect: expectOne },
  };
}
