/**
 * What a scenario file gets wrong that is visible before it runs: an arena-relative range
 * that leaves the arena (the kernel side would refuse it with ArenaError mid-run), an
 * errno name no kernel returns, a comparison window that ends before it starts. Found at
 * load time they are input errors naming the JSON path, like the schema's; names bound
 * by earlier steps are only known while running and are not checked here.
 */
import { parseMremapFlags, type FlagSpec } from '../space/flags.js';
import { MREMAP, PAGE_SIZE } from '../space/constants.js';
import { Errno } from '../space/errno.js';
import { arenaOffset, ScenarioInputError } from './address.js';
import type { AddrExpr, LenExpr, Scenario, Step, Window } from './types.js';
import { expectations } from './steps/decode.js';

/** The field holding each range op's length (a page count, or bytes for parameter tests). */
const RANGE_LEN: Record<string, string> = {
  map: 'len',
  munmap: 'len',
  mseal: 'len',
  uffd: 'len',
  mlock: 'len',
  munlock: 'len',
  mprotect: 'len',
  madvise: 'len',
  mremap: 'oldLen',
  touch: 'pages',
  read: 'pages',
};

function pages(len: unknown, dflt: number | undefined): bigint | undefined {
  const v = (len as LenExpr | undefined) ?? dflt;
  // Byte lengths ("4095b", "-1b") exist to test parameter errors the kernel reports before
  // it looks at memory, so only page counts bound a range.
  return typeof v === 'number' ? BigInt(v) * PAGE_SIZE : undefined;
}

function checkRange(at: unknown, len: bigint | undefined, arenaPages: number, path: string): void {
  if (typeof at !== 'string') return;
  const off = arenaOffset(at as AddrExpr);
  if (off === undefined) return;
  const size = BigInt(arenaPages) * PAGE_SIZE;
  const how = `the arena has ${arenaPages} pages (@0 to @${arenaPages - 1}); make arena.pages larger, or use "=0x…" for an address the kernel must refuse`;
  if (off < 0n || off > size)
    throw new ScenarioInputError(`"${at}" is outside the arena: ${how}`, path);
  // From the start of the page: an unaligned address is a parameter test (EINVAL before
  // any VMA lookup) or, for touch and read, a byte inside that page.
  if (len !== undefined && off - (off % PAGE_SIZE) + len > size)
    throw new ScenarioInputError(
      `the ${len / PAGE_SIZE}-page range at "${at}" ends outside the arena: ${how}`,
      path,
    );
}

/** The schema has already parsed the flags (src/space/flags.ts), in any of their spellings. */
function isFixedMove(s: Step): boolean {
  const spec = (s as { flags?: FlagSpec }).flags;
  return (parseMremapFlags(spec) & MREMAP.FIXED) !== 0n;
}

function checkWindowOrder(w: Window, path: string): void {
  const from = arenaOffset(w.from);
  const to = arenaOffset(w.to);
  if (from !== undefined && to !== undefined && from >= to)
    throw new ScenarioInputError(
      `the window from "${w.from}" to "${w.to}" is empty or reversed; "from" must be below "to"`,
      path,
    );
}

/**
 * A file step needs the diskFile gate (SKIP where TMPDIR is not on a disk filesystem), and
 * a map's kind names the step that made its file: memfd kinds a memfd, file kinds a file.
 */
function checkFiles(sc: Scenario): void {
  const made = new Map<string, 'memfd' | 'file'>();
  sc.steps.forEach((s, i) => {
    if (s.op === 'file' && !(sc.requires?.features ?? []).includes('diskFile'))
      throw new ScenarioInputError(
        'a file step needs "requires": { "features": ["diskFile"] } (skipped where TMPDIR is not on ext4, xfs or btrfs)',
        `$.steps[${i}].op`,
      );
    if (s.op === 'memfd' || s.op === 'file') made.set(s.name, s.op);
    if (s.op !== 'map' || s.file === undefined || s.kind === undefined) return;
    const want = s.kind.startsWith('file') ? 'file' : 'memfd';
    const got = made.get(s.file);
    if (got !== undefined && got !== want)
      throw new ScenarioInputError(
        `"${s.file}" was made by a ${got} step: map it with kind "${got}" or "${got}-private"`,
        `$.steps[${i}].kind`,
      );
  });
}

export function checkScenarioAtLoad(sc: Scenario): void {
  checkFiles(sc);
  sc.steps.forEach((s, i) => {
    const path = `$.steps[${i}]`;
    const f = s as unknown as Record<string, unknown>;
    const lenField = RANGE_LEN[s.op];
    // A hinted or no-replace map may land anywhere; the kernel's choice is adopted.
    const placed =
      s.op !== 'map' || ((f['placement'] as string | undefined) ?? 'fixed') === 'fixed';
    if (lenField && placed) {
      const dflt = s.op === 'touch' || s.op === 'read' ? 1 : undefined;
      checkRange(f['at'], pages(f[lenField], dflt), sc.arena.pages, `${path}.at`);
    }
    if (s.op === 'mremap' && isFixedMove(s))
      checkRange(f['to'], pages(f['newLen'], undefined), sc.arena.pages, `${path}.to`);
    expectations(s).forEach((e, j) => {
      if (e.window === undefined) return;
      const at = Array.isArray(s.expect) ? `[${j}]` : '';
      checkWindowOrder(e.window, `${path}.expect${at}.window`);
    });
    const errno = (s.expect as { errno?: string } | undefined)?.errno;
    if (errno !== undefined && !(errno in Errno))
      throw new ScenarioInputError(
        `unknown errno "${errno}"; known: ${Object.keys(Errno).join(', ')}`,
        `${path}.expect.errno`,
      );
  });
  if (sc.window) checkWindowOrder(sc.window, '$.window');
}
