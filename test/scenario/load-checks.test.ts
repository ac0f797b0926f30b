/** Errors a scenario file shows before it runs are load errors with the JSON path. */
import { describe, expect, it } from 'vitest';
import { ScenarioInputError } from '../../src/scenario/address.js';
import { validateScenario } from '../../src/scenario/schema.js';

const scenario = (patch: Record<string, unknown>, steps: unknown[]) => ({
  id: 'x',
  title: 'x',
  source: 'mm/mremap.c',
  arena: { pages: 16 },
  ...patch,
  steps,
});

function loadError(sc: unknown): { path: string; message: string } {
  try {
    validateScenario(sc);
  } catch (e) {
    if (e instanceof ScenarioInputError) return { path: e.path, message: e.message };
    throw e;
  }
  throw new Error('loaded without an error');
}

const map = { op: 'map', name: 'a', at: '@0', len: 4 };

describe('load-time checks', () => {
  it('an address outside the arena', () => {
    const e = loadError(scenario({}, [map, { op: 'munmap', at: '@20', len: 1 }]));
    expect(e.path).toBe('$.steps[1].at');
    expect(e.message).toContain('"@20" is outside the arena: the arena has 16 pages (@0 to @15)');
  });

  it('a range that runs past the end of the arena, and a FIXED destination that does', () => {
    expect(loadError(scenario({}, [{ ...map, at: '@14' }])).path).toBe('$.steps[0].at');
    const e = loadError(
      scenario({}, [
        map,
        { op: 'mremap', at: 'a', oldLen: 4, newLen: 4, flags: ['MAYMOVE', 'FIXED'], to: '@13' },
      ]),
    );
    expect(e.path).toBe('$.steps[1].to');
    expect(e.message).toContain('the 4-page range at "@13" ends outside the arena');
  });

  it('an errno no kernel returns', () => {
    const e = loadError(
      scenario({}, [map, { op: 'munmap', at: '@0+1b', len: 1, expect: { errno: 'EINVALID' } }]),
    );
    expect(e.path).toBe('$.steps[1].expect.errno');
    expect(e.message).toContain('unknown errno "EINVALID"');
  });

  it('a reversed window', () => {
    const e = loadError(scenario({ window: { from: '@8', to: '@2' } }, [map]));
    expect(e.path).toBe('$.window');
    expect(e.message).toContain('"from" must be below "to"');
  });

  it('still accepts byte lengths, hinted maps and absolute addresses the kernel must refuse', () => {
    const sc = scenario({}, [
      map,
      { op: 'munmap', at: '@0', len: '-1b', expect: { errno: 'EINVAL' } },
      { op: 'map', at: '@40', len: 1, placement: 'hint' },
      { op: 'mremap', at: 'a', oldLen: 1, newLen: 1, flags: ['MAYMOVE'], to: '@99' },
      { op: 'munmap', at: '=0xffffffffffff000', len: 1, expect: { errno: 'EINVAL' } },
    ]);
    expect(validateScenario(sc).steps).toHaveLength(5);
  });
});
