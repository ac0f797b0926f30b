/**
 * Which test file belongs to which vitest project (vitest.config.ts). One list per project,
 * each entry a file or a whole directory (`dir/**\/*.test.ts`); test/projects.test.ts fails
 * when a test file is in no project or in two, so a new file must be placed here.
 *
 * - unit: no kernel, no root, no CLI process: the model, parsers, statistics, formats.
 * - kernel: talks to the running kernel in process (syscalls, /proc, the native addon);
 *   every assertion gated by what probe() finds.
 * - e2e: spawns the built CLI (dist/cli/main.js), as a user runs it.
 */
const files = (dir: string, names: string[]): string[] =>
  names.map((n) => `test/${dir}/${n}.test.ts`);

export const PROJECTS = {
  unit: [
    'test/model/**/*.test.ts',
    ...files('bench', [
      'beside-selftest',
      'compare',
      'costmodel',
      'environment',
      'matrix',
      'plan-replay',
      'report',
      'selftest-cases',
      'stalls',
      'stats',
      'trace',
    ]),
    ...files('cli', ['argv', 'options']),
    ...files('fuzz', ['harness-hooks']),
    ...files('kernel', ['trace-parse']),
    ...files('scenario', [
      'address',
      'citations',
      'confusion',
      'format-gaps',
      'kernel-range',
      'kernel-record',
      'load-checks',
      'load-tags',
      'outside-clip',
      'plan-trace',
      'plan-verdict',
      'profile-matrix',
      'schema-file',
      'schema',
      'steps',
      'sysctls',
      'trace-matrix',
      'windows-files',
    ]),
    ...files('vm', ['bench-kernels', 'cpio', 'kernel-spec', 'modules', 'multi-kernel']),
    'test/projects.test.ts',
  ],
  kernel: [
    ...files('kernel', [
      'adopted',
      'arena',
      'disk-file',
      'fork',
      'load',
      'observe-cli',
      'observe-maps',
      'observe-pagemap',
      'observe-smaps',
      'pin-thread',
      'probe',
      'syscalls',
      'thp-slots',
      'trace-status',
      'v8-proof',
    ]),
    ...files('bench', ['sampler']),
    ...files('docs', ['unsafe-doc']),
    ...files('fuzz', ['fuzz']),
  ],
  e2e: [
    ...files('bench', ['isolation', 'results-file', 'run']),
    ...files('cli', [
      'cli',
      'color',
      'epipe',
      'exit-codes',
      'explain-verify',
      'interrupt',
      'messages',
    ]),
    ...files('fuzz', ['fuzz-cli']),
    ...files('kernel', ['thp-slots-cli', 'validate-trace']),
    ...files('scenario', [
      'arena-align',
      'builtin-suite',
      'flags64',
      'hugetlb',
      'ktap',
      'pool',
      'privileges',
      'validate-cli',
      'validate-profiles',
    ]),
    ...files('vm', ['boot', 'guest', 'kernel-cli']),
  ],
} as const satisfies Record<string, readonly string[]>;

export type ProjectName = keyof typeof PROJECTS;

/** Does `file` (relative to the repository, '/'-separated) match a PROJECTS entry? */
export function matches(entry: string, file: string): boolean {
  const dir = /^(.*)\/\*\*\/\*\.test\.ts$/.exec(entry);
  return dir ? file.startsWith(`${dir[1]}/`) && file.endsWith('.test.ts') : file === entry;
}

/** The projects a test file belongs to. */
export function projectsOf(file: string): ProjectName[] {
  return (Object.keys(PROJECTS) as ProjectName[]).filter((p) =>
    PROJECTS[p].some((e) => matches(e, file)),
  );
}
