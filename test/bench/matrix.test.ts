// Matrix files: expansion, the model plan for a case's exact layout, and input errors that
// name the file, the line and the field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonInputError } from '../../src/bench/jsonpos.js';
import { expandEntry, loadMatrix, presetMatrix, PRESETS } from '../../src/bench/matrix.js';
import { placeExact } from '../../src/bench/layout.js';
import { predictPlan } from '../../src/bench/plan.js';
import { caseId, GIB, MIB } from '../../src/bench/types.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-bench-matrix-'));
const write = (name: string, text: string): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};
const env = { thpEnabled: 'madvise', haveMovePmd: true, haveMovePud: true, relocateAnon: false };

describe('matrix', () => {
  it('every preset expands to unique, valid cases', () => {
    for (const name of Object.keys(PRESETS)) {
      const m = presetMatrix(name);
      expect(m.cases.length).toBeGreaterThan(0);
      expect(new Set(m.cases.map(caseId)).size).toBe(m.cases.length);
    }
  });

  it('lists cross, dst "same" pairs, sizes parse', () => {
    const cs = expandEntry({ size: ['4K', '2M+4K'], src: ['pte', 'pmd'], dst: 'same' });
    expect(cs.map(caseId)).toEqual([
      'move 4K pte->pte private-anon pop=1',
      'move 4K pmd->pmd private-anon pop=1',
      'move 2052K pte->pte private-anon pop=1',
      'move 2052K pmd->pmd private-anon pop=1',
    ]);
  });

  it('a malformed matrix names file, line and field', () => {
    const f = write(
      'bad.json',
      '{\n  "samples": 5,\n  "cases": [\n    { "size": "4K" },\n    { "size": "3000" }\n  ]\n}\n',
    );
    expect(() => loadMatrix(f)).toThrow(JsonInputError);
    try {
      loadMatrix(f);
    } catch (e) {
      const err = e as JsonInputError;
      expect(err.line).toBe(5);
      expect(err.field).toBe('$.cases[1].size');
      expect(err.message).toContain(`${f}:5:`);
    }
    const g = write('syntax.json', '{\n  "cases": [\n    { "size": "4K", }\n  ]\n}\n');
    expect(() => loadMatrix(g)).toThrow(/syntax\.json:3: invalid JSON/);
    const h = write('unknown.json', '{\n  "cases": [ { "colour": "red" } ]\n}\n');
    expect(() => loadMatrix(h)).toThrow(/unknown\.json:2: \$\.cases\[0\]\.colour: unknown field/);
  });
});

describe('layout and predicted plan', () => {
  it('exact alignment as mremap_test.c: aligned to A, not to 2A', () => {
    expect(placeExact(GIB, 'pmd') % (2 * MIB)).toBe(0);
    expect(placeExact(GIB, 'pmd') % (4 * MIB)).toBe(2 * MIB);
    expect(placeExact(GIB, 'pud') % (2 * GIB)).toBe(GIB);
    expect(placeExact(GIB, 4096) % (2 * MIB)).toBe(4096);
  });

  it('PMD-aligned 4 MiB move: 2 PMD entries; mutually aligned +4K: realigned', () => {
    const [pmd] = expandEntry({ size: '4M', src: 'pmd' });
    const l = {
      regionLo: 0,
      regionHi: 0,
      src: 2 * GIB + 2 * MIB,
      dst: 4 * GIB + 6 * MIB,
      oldLen: 4 * MIB,
      newLen: 4 * MIB,
      nbAddr: 0,
      nbLen: 0,
    };
    const p = predictPlan(pmd!, l, env);
    expect(p.pmds).toBe(2);
    expect(p.ptes).toBe(0);
    const [mut] = expandEntry({ size: '4M', src: 'pmd+4K', dst: 'same' });
    const lm = { ...l, src: l.src + 4096, dst: l.dst + 4096 };
    const pm = predictPlan(mut!, lm, env);
    expect(pm.realigned).toBe(true);
    expect(pm.pmds).toBe(2);
    expect(pm.ptes).toBe(1);
    // A preamble below the destination makes can_align_down refuse.
    const [pre] = expandEntry({ size: '4M', src: 'pmd+4K', dst: 'same', neighbour: 'preamble' });
    const pp = predictPlan(pre!, { ...lm, nbAddr: lm.dst - 4096, nbLen: 4096 }, env);
    expect(pp.realigned).toBe(false);
  });
});
