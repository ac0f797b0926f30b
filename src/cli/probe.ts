import type { Command } from 'commander';
import Table from 'cli-table3';
import { colors as pc, tableStyle } from './color.js';
import { probe, type ProbeResult } from '../kernel/probe.js';

function yes(v: boolean | null): string {
  if (v === null) return pc.dim('unknown');
  return v ? pc.green('yes') : pc.yellow('no');
}

function size(n: number): string {
  if (n >= 1 << 30) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20) return `${n / (1 << 20)} MiB`;
  return `${n / 1024} KiB`;
}

export function formatProbe(p: ProbeResult): string {
  const t = new Table({ head: ['feature', 'value'], style: tableStyle() });
  t.push(
    ['kernel release', p.release],
    ['machine', p.machine],
    ['page / PMD / PUD size', `${size(p.pageSize)} / ${size(p.pmdSize)} / ${size(p.pudSize)}`],
    ['THP enabled / defrag', `${p.thp.enabled ?? '-'} / ${p.thp.defrag ?? '-'}`],
  );
  const sizes = Object.entries(p.thp.sizes)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([k, v]) => `${k}kB=${v}`);
  if (sizes.length) t.push(['mTHP sizes', sizes.join(' ')]);
  for (const f of p.mremapFlags) {
    t.push([`mremap flag ${f.bit} ${f.name}`, `${yes(f.accepted)} (${f.result})`]);
  }
  t.push(
    ['multi-VMA FIXED moves (6.17+)', yes(p.multiVmaMove)],
    ['PROCMAP_QUERY (6.11+)', yes(p.procmapQuery)],
    ['PAGEMAP_SCAN (6.7+)', yes(p.pagemapScan)],
    ['pagemap shows PFNs', yes(p.pagemapPfns)],
    ['/proc/kpageflags readable', yes(p.kpageflags)],
    ['mseal (6.10+)', yes(p.mseal)],
    ['userfaultfd', yes(p.userfaultfd)],
    [
      `CONFIG_HAVE_MOVE_PMD / PUD${p.config.source ? ` (${p.config.source})` : ''}`,
      `${yes(p.config.haveMovePmd)} / ${yes(p.config.haveMovePud)}`,
    ],
    ['vm.max_map_count', String(p.maxMapCount ?? '-')],
    ['vm.mmap_min_addr', String(p.mmapMinAddr ?? '-')],
    ['vm.overcommit_memory', String(p.overcommitMemory ?? '-')],
    ['stack_guard_gap (pages)', String(p.stackGuardGap)],
    ['RLIMIT_STACK', p.rlimitStack === null ? 'unlimited' : String(p.rlimitStack)],
  );
  return t.toString();
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('report what this kernel supports, found by harmless calls inside an arena')
    .option('--json', 'print the probe object (schema in docs/probe.md)')
    .action((opts: { json?: boolean }) => {
      const p = probe();
      process.stdout.write(opts.json ? `${JSON.stringify(p, null, 2)}\n` : `${formatProbe(p)}\n`);
    });
}
