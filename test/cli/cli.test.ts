/** The real binary, spawned as a user would run it. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'dist/cli/main.js');

export function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mremap-lab CLI', () => {
  it('probe --json prints the documented object', () => {
    const r = cli('probe', '--json');
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(p['schema']).toBe(2);
    expect(Object.keys(p)).toEqual(
      expect.arrayContaining([
        'release',
        'pageSize',
        'pmdSize',
        'pudSize',
        'thp',
        'mremapFlags',
        'relocateAnon',
        'multiVmaMove',
        'procmapQuery',
        'pagemapScan',
        'pagemapPfns',
        'kpageflags',
        'mseal',
        'config',
        'maxMapCount',
        'mmapMinAddr',
        'traits',
      ]),
    );
    const t = p['traits'] as Record<string, unknown>;
    expect(Object.keys(t)).toEqual(
      expect.arrayContaining([
        'zeroPage',
        'hugeZeroPage',
        'ptReclaim',
        'faultAroundBytes',
        'thp',
        'vmflagMnemonics',
        'guardRegions',
        'pagemapScan',
        'pfnVisible',
        'mapCount',
        'overcommit',
      ]),
    );
  });

  it('probe prints a table naming every flag bit', () => {
    const r = cli('probe');
    expect(r.code).toBe(0);
    for (const name of [
      'MREMAP_MAYMOVE',
      'MREMAP_FIXED',
      'MREMAP_DONTUNMAP',
      'MREMAP_RELOCATE_ANON',
      'MREMAP_MUST_RELOCATE_ANON',
    ]) {
      expect(r.stdout).toContain(name);
    }
  });
});
