/**
 * arena.align values no arena can have ("3M", "2G", "1k") used to pass the schema and crash
 * the worker; they are refused when the scenario is read.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateScenario } from '../../src/scenario/schema.js';
import { good, problem } from './validation-helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');

describe('arena.align is checked when the scenario is read', () => {
  it.each(['3M', '2G', '1k', '0K', '3072K'])('refuses %s with what is allowed', (align) => {
    const [where, msg] = problem({ ...good, arena: { pages: 8, align } });
    expect(where).toBe('$.arena.align');
    expect(msg).toContain(`"${align}": an arena alignment must be a power of two from 4K to 1G`);
  });

  it.each(['4K', '4k', '1024K', '2M', '512M', '1G'])('accepts %s', (align) => {
    expect(validateScenario({ ...good, arena: { pages: 8, align } }).arena.align).toBe(align);
  });
});

describe('validate with a bad arena.align', () => {
  it('exits 2 naming the file, the field and what is allowed (no worker crash)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mrl-align-'));
    const file = path.join(dir, 'align-3m.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ ...good, id: 'align-3m', arena: { pages: 8, align: '3M' } }),
    );
    try {
      const r = spawnSync(process.execPath, [bin, 'validate', '--suite', file], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
        timeout: 120_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${file} at $.arena.align: "3M": an arena alignment must be`);
      expect(r.stdout + r.stderr).not.toContain('CRASH');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
