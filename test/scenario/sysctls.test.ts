/**
 * The run-environment fields of the scenario format (sysctls, user, rlimits): what is
 * refused when the file is read, how "+N" resolves, how settings read back reach the
 * model, and the pagemap PFN-visibility comparison an unprivileged run relies on.
 */
import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/kernel/probe.js';
import { validateScenario } from '../../src/scenario/schema.js';
import { diffSnapshots, FrameLabeler } from '../../src/scenario/diff.js';
import { poolPhase } from '../../src/scenario/pool.js';
import { probeWithSysctls, resolveSysctls, SYSCTLS } from '../../src/scenario/sysctls.js';
import { scenarioJsonSchema } from '../../src/scenario/schema.js';
import type { Snapshot } from '../../src/space/address-space.js';
import { good, problem } from './validation-helpers.js';

describe('sysctls, user, rlimits', () => {
  it('accepts the known settings and the relative max_map_count', () => {
    const sc = validateScenario({
      ...good,
      sysctls: { 'vm.max_map_count': '+4', 'transparent_hugepage/enabled': 'never' },
      rlimits: { memlock: '8192b' },
    });
    expect(sc.sysctls).toEqual({
      'vm.max_map_count': '+4',
      'transparent_hugepage/enabled': 'never',
    });
    expect(validateScenario({ ...good, user: 'unprivileged', rlimits: { memlock: 4 } }).user).toBe(
      'unprivileged',
    );
  });

  it('names the path and the fix for bad settings', () => {
    expect(problem({ ...good, sysctls: { 'vm.swappiness': 10 } })).toEqual([
      '$.sysctls["vm.swappiness"]',
      expect.stringContaining('unknown setting "vm.swappiness"; known: vm.max_map_count'),
    ]);
    expect(problem({ ...good, sysctls: { 'vm.max_map_count': '4' } })).toEqual([
      '$.sysctls["vm.max_map_count"]',
      expect.stringContaining('"+N"'),
    ]);
    expect(problem({ ...good, sysctls: { 'transparent_hugepage/enabled': 'sometimes' } })[1]).toBe(
      'expected one of always, madvise, never',
    );
    expect(problem({ ...good, sysctls: {} })[1]).toBe('expected at least one setting');
    expect(problem({ ...good, user: 'root' })[0]).toBe('$.user');
    expect(
      problem({ ...good, user: 'unprivileged', sysctls: { 'vm.overcommit_memory': 1 } }),
    ).toEqual(['$.sysctls', expect.stringContaining('cannot be combined with "user"')]);
    expect(problem({ ...good, rlimits: { stack: 1 } })[0]).toBe('$.rlimits.stack');
    expect(problem({ ...good, rlimits: { memlock: 'lots' } })[0]).toBe('$.rlimits.memlock');
  });

  it('the published schema lists exactly the accepted settings', () => {
    const props = (scenarioJsonSchema() as { properties: { sysctls: { properties: object } } })
      .properties.sysctls.properties;
    expect(Object.keys(props).sort()).toEqual(Object.keys(SYSCTLS).sort());
  });

  it('"+N" counts from the process\'s other VMAs; the model sees what was read back', () => {
    expect(resolveSysctls({ 'vm.max_map_count': '+4', 'vm.nr_hugepages': 8 }, 250)).toEqual({
      'vm.max_map_count': '254',
      'vm.nr_hugepages': '8',
    });
    const probe = { maxMapCount: 65530, overcommitMemory: 0, thp: { enabled: 'madvise' } };
    const seen = probeWithSysctls(probe as unknown as ProbeResult, {
      'vm.max_map_count': '254',
      'vm.overcommit_memory': '2',
      'transparent_hugepage/enabled': 'always',
    });
    expect([seen.maxMapCount, seen.overcommitMemory, seen.thp.enabled]).toEqual([254, 2, 'always']);
    expect(probe.thp.enabled).toBe('madvise');
  });

  it('puts setting scenarios last and alone; model-only runs share the workers', () => {
    const sc = validateScenario({ ...good, sysctls: { 'vm.overcommit_memory': 1 } });
    expect(poolPhase(sc, undefined)).toBe('alone');
    expect(poolPhase(sc, 'model')).toBe('shared');
    expect(poolPhase(validateScenario(good), undefined)).toBe('shared');
  });

  it('a difference in PFN visibility is a divergence once a page is present', () => {
    const snap = (present: boolean, framesVisible: boolean): Snapshot => ({
      start: 0n,
      end: 0x1000n,
      vmas: [],
      pages: [{ addr: 0n, present, frame: null, tag: null, thp: false, zero: false }],
      framesVisible,
    });
    const o = {
      base: 0n,
      vmFlags: false,
      kFrames: new FrameLabeler(),
      mFrames: new FrameLabeler(),
    };
    expect(diffSnapshots(snap(true, true), snap(true, false), o)).toEqual([
      'PFNs in pagemap: kernel visible, model hidden',
    ]);
    expect(diffSnapshots(snap(false, true), snap(false, false), o)).toEqual([]);
    expect(diffSnapshots(snap(true, false), snap(true, false), o)).toEqual([]);
  });
});
