/**
 * An ArenaError points to "the documented `unsafe` syscalls": that documentation exists,
 * names every member of the layer, and the README leads to it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/kernel/arena.js';
import { ArenaError } from '../../src/kernel/errors.js';
import { KernelSpace } from '../../src/kernel/kernel-space.js';
import { unsafe } from '../../src/index.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('the unsafe layer is documented where the arena error sends you', () => {
  it('docs/unsafe.md lists every member, and the README links it', () => {
    const arena = Arena.reserve({ size: 4n * 4096n, interior: 'empty' });
    let message = '';
    try {
      new KernelSpace(arena).unmap(arena.end, 4096n);
    } catch (e) {
      if (!(e instanceof ArenaError)) throw e;
      message = e.message;
    } finally {
      arena.release();
    }
    expect(message).toContain('the documented `unsafe` syscalls');
    const doc = fs.readFileSync(path.join(root, 'docs/unsafe.md'), 'utf8');
    expect(doc).toMatch(/^# The `unsafe` layer$/m);
    const documented = [...doc.matchAll(/^\| `(\w+)\(/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(unsafe).sort());
    expect(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(
      '[docs/unsafe.md](docs/unsafe.md)',
    );
  });
});
