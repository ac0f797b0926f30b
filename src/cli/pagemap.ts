/**
 * `mremap-lab pagemap`: the pages of a range as runs of equal state (pagemap bits, plus
 * kpageflags THP/zero page when PFNs are visible), split at VMA boundaries and where PFNs
 * stop being consecutive. Never one line per page.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { colors as pc, tableStyle } from './color.js';
import { readKpageflags, KPF } from '../kernel/kpageflags.js';
import { permString } from '../kernel/maps.js';
import { PAGE, PG, readPagemap, stateNames, type PagemapRange } from '../kernel/pagemap.js';
import { queryWindow } from '../kernel/procmap-query.js';
import { bigintReplacer, hex, kib, parsePid, parseRange, procError } from './maps.js';

/** 2^24 pages (64 GiB): 150 MB of decoded arrays; more is almost certainly a typo. */
const MAX_PAGES = 1n << 24n;

export interface PageRunView {
  start: bigint;
  end: bigint;
  pages: number;
  /** 'rw-p' of the VMA, or null in a hole. */
  vma: string | null;
  state: string[];
  thp: boolean;
  zero: boolean;
  /** PFNs of the run (first..last) when visible and consecutive. */
  pfn: [number, number] | null;
}

/** Builds the runs (exported for tests). */
export function pageRunViews(
  pm: PagemapRange,
  vmas: { start: bigint; end: bigint; perms: string }[],
  thp: Uint8Array,
  zero: Uint8Array,
): PageRunView[] {
  const vmaOf = new Int32Array(pm.count).fill(-1);
  vmas.forEach((v, k) => {
    const a = v.start > pm.addr ? Number((v.start - pm.addr) / PAGE) : 0;
    const b = Math.min(pm.count, Number((v.end - pm.addr) / PAGE));
    vmaOf.fill(k, a, b);
  });
  const key = (i: number) => pm.state[i]! | (thp[i]! << 8) | (zero[i]! << 9);
  const runs: PageRunView[] = [];
  let i = 0;
  while (i < pm.count) {
    const k = key(i);
    const p0 = pm.pfn[i]!;
    const swapped = (pm.state[i]! & PG.SWAPPED) !== 0;
    let j = i + 1;
    while (
      j < pm.count &&
      key(j) === k &&
      vmaOf[j] === vmaOf[i] &&
      (p0 < 0 || swapped || pm.pfn[j] === p0 + (j - i))
    ) {
      j++;
    }
    const v = vmaOf[i]! >= 0 ? vmas[vmaOf[i]!]! : null;
    runs.push({
      start: pm.addr + BigInt(i) * PAGE,
      end: pm.addr + BigInt(j) * PAGE,
      pages: j - i,
      vma: v ? v.perms : null,
      state: stateNames(pm.state[i]!),
      thp: thp[i] === 1,
      zero: zero[i] === 1,
      pfn: p0 >= 0 && !swapped ? [p0, p0 + (j - i) - 1] : null,
    });
    i = j;
  }
  return runs;
}

interface PagemapOptions {
  pid?: string;
  range: string;
  json?: boolean;
}

export function registerPagemap(program: Command): void {
  program
    .command('pagemap')
    .description('show the pages of a range as runs of equal state (present, PFN, THP, …)')
    .option('--pid <pid>', 'process to inspect (default: this process)')
    .requiredOption('--range <start-end>', 'hex address range, rounded out to whole pages')
    .option('--json', 'print JSON (addresses as 0x-hex strings)')
    .action((opts: PagemapOptions, cmd: Command) => {
      const pid = parsePid(opts.pid);
      if (typeof pid === 'string') cmd.error(pid, { exitCode: 2, code: 'mrl.badPid' });
      const r = parseRange(opts.range);
      if (typeof r === 'string') cmd.error(r, { exitCode: 2, code: 'mrl.badRange' });
      const start = r.start & ~(PAGE - 1n);
      const end = (r.end + PAGE - 1n) & ~(PAGE - 1n);
      if ((end - start) / PAGE > MAX_PAGES) {
        cmd.error(
          `bad --range '${opts.range}': ${(end - start) / PAGE} pages is more than ` +
            `${MAX_PAGES} (64 GiB); give a smaller range`,
          { exitCode: 2, code: 'mrl.badRange' },
        );
      }
      const w = queryWindow(pid, start, end, { names: false });
      if (!w.ok) cmd.error(procError(pid, 'maps', w), { exitCode: 1, code: 'mrl.procfs' });
      const pmr = readPagemap(pid, start, end);
      if (!pmr.ok) cmd.error(procError(pid, 'pagemap', pmr), { exitCode: 1, code: 'mrl.procfs' });
      const pm = pmr.value;
      const thp = new Uint8Array(pm.count);
      const zero = new Uint8Array(pm.count);
      const present: number[] = [];
      for (let i = 0; i < pm.count; i++)
        if (pm.pfn[i]! >= 0 && pm.state[i]! & PG.PRESENT) present.push(i);
      let frames = 'hidden (no CAP_SYS_ADMIN)';
      if (present.length) {
        const kf = readKpageflags(Float64Array.from(present, (i) => pm.pfn[i]!));
        frames = kf.ok ? 'kpageflags' : `kpageflags unreadable (${kf.code})`;
        if (kf.ok) {
          present.forEach((i, k) => {
            const f = kf.value[k]!;
            thp[i] = Number((f >> BigInt(KPF.THP)) & 1n);
            zero[i] = Number((f >> BigInt(KPF.ZERO_PAGE)) & 1n);
          });
        }
      }
      const t = w.value;
      const vmas = [];
      for (let k = 0; k < t.count; k++) {
        vmas.push({ start: t.start(k), end: t.end(k), perms: permString(t.cols.perms[k]!) });
      }
      const runs = pageRunViews(pm, vmas, thp, zero);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ pid, start, end, runs }, bigintReplacer, 2)}\n`);
        return;
      }
      const tab = new Table({
        head: ['range', 'pages', 'vma', 'state', 'PFN'],
        style: tableStyle(),
      });
      for (const x of runs) {
        const extra = [x.thp ? pc.magenta('thp') : '', x.zero ? pc.blue('zero-page') : '']
          .filter((s) => s !== '')
          .join(' ');
        const state = x.state.length ? x.state.join(' ') : pc.dim('not present');
        tab.push([
          `${hex(x.start)}-${hex(x.end)}`,
          { hAlign: 'right', content: `${x.pages} (${kib(x.end - x.start)})` },
          x.vma ?? pc.dim('(no VMA)'),
          extra ? `${state} ${extra}` : state,
          x.pfn
            ? x.pfn[0] === x.pfn[1]
              ? `0x${x.pfn[0].toString(16)}`
              : `0x${x.pfn[0].toString(16)}-0x${x.pfn[1].toString(16)}`
            : pc.dim('-'),
        ]);
      }
      const presentCount = [...pm.state].filter((s) => s & PG.PRESENT).length;
      process.stdout.write(
        `${tab.toString()}\n${pm.count} pages, ${presentCount} present, ${runs.length} runs; ` +
          `THP/zero page: ${present.length ? frames : 'no present pages'}\n`,
      );
    });
}
