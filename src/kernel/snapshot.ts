/**
 * What the kernel's address space looks like in [start, end): the shared `Snapshot` that the
 * differ compares with the model's.
 *
 * Cheap path (always): PROCMAP_QUERY over the window (one native call; the maps text where
 * the ioctl is missing) + one pagemap pread decoded in C++ + 8-byte tag reads of present
 * pages only through /proc/PID/mem (so observing never faults memory in) + kpageflags of the
 * present frames (root). Rich path (opts.vmFlags): /proc/PID/smaps, which walks every VMA of
 * the process.
 *
 * thp means "mapped by a huge PMD" — what an mremap keeps (move_huge_pmd) or splits
 * (split_huge_pmd on a misaligned extent), and what smaps AnonHugePages counts. A split PMD
 * leaves a large folio mapped by PTEs for a while; that is folio state (kpageflags THP, see
 * inspectFrames), not page-table state, and is not what `thp` reports.
 *   thp:  PAGEMAP_SCAN (6.7+) PAGE_IS_HUGE (set for PMD-mapped pages only, root or not);
 *         without the ioctl, per PMD slot from smaps AnonHugePages, pagemap and kpageflags
 *         (thp-slots.ts); `thpInfo` says which.
 *   zero: kpageflags ZERO_PAGE when PFNs are visible (CAP_SYS_ADMIN); else PAGEMAP_SCAN
 *         PFNZERO; else present, not exclusive, not file, in a private anonymous VMA (a
 *         read-faulted page; CoW-shared pages after fork would look the same).
 */
import { native } from '../native.js';
import { PMD_SIZE } from '../space/constants.js';
import type { PageView, Snapshot, SnapshotOptions, VmaView } from '../space/address-space.js';
import { err, ok, type Result } from '../space/result.js';
import { mappingKind, permString, PERM, type VmaTable } from './maps.js';
import { PAGE, PG, readPagemapFd, withPagemapFd, type PagemapRange } from './pagemap.js';
import { PAGE_IS, scanFd, categoriesPerPage } from './pagemap-scan.js';
import { queryWindow } from './procmap-query.js';
import { readKpageflags, KPF } from './kpageflags.js';
import { readSmaps, type SmapsEntry } from './smaps.js';
import { thpSlotsWithoutScan, type ThpMethod } from './thp-slots.js';
import { isHoleName } from './holes.js';

export interface KernelSnapshotOptions extends SnapshotOptions {
  /** Read the 8-byte tag of present pages. Default true (when pages are read). */
  tags?: boolean;
}

/** How thp/zero were determined for the last snapshot (for reports and tests). */
export type PageInfoSource = 'kpageflags' | 'pagemap_scan' | 'heuristic' | 'none';

export interface KernelSnapshot extends Snapshot {
  /** Where the VMA list came from. */
  vmaSource: VmaTable['source'];
  pageInfo: PageInfoSource;
  /** False when pagemap hid PFNs (no CAP_SYS_ADMIN): frames are then null. True if unknown. */
  framesVisible: boolean;
  /** How `thp` was determined. */
  thpInfo: ThpMethod;
  /** PMD slots whose huge mapping could not be told (no PAGEMAP_SCAN; see thp-slots.ts): their pages say thpUnknown. */
  thpAmbiguous: number;
}

function vmaViews(t: VmaTable, flags: Map<bigint, SmapsEntry> | null): VmaView[] {
  const out: VmaView[] = [];
  const c = t.cols;
  for (let i = 0; i < t.count; i++) {
    // An arena placeholder stands for a hole (kernel/holes.ts): it is not there.
    if (isHoleName(t.name(i))) continue;
    const perms = c.perms[i]!;
    const shared = (perms & PERM.MAYSHARE) !== 0;
    const view: VmaView = {
      start: c.start[i]!,
      end: c.end[i]!,
      prot: permString(perms).slice(0, 3),
      shared,
      kind: mappingKind({
        shared,
        devMajor: c.devMajor[i]!,
        devMinor: c.devMinor[i]!,
        inode: c.inode[i]!,
        name: t.name(i),
      }),
      offset: c.offset[i]!,
    };
    if (flags) {
      const s = flags.get(view.start);
      view.vmFlags = s ? s.vmFlags.codes : [];
    }
    out.push(view);
  }
  return out;
}

function readTags(pid: number, pm: PagemapRange, present: number[]): (bigint | null)[] {
  const tags: (bigint | null)[] = new Array<bigint | null>(pm.count).fill(null);
  if (present.length === 0) return tags;
  const fd = native.procOpen(pid, 'mem');
  if (!fd.ok) return tags;
  try {
    const addrs = new BigUint64Array(present.length);
    for (let k = 0; k < present.length; k++) addrs[k] = pm.addr + BigInt(present[k]!) * PAGE;
    const out = new BigUint64Array(present.length);
    const good = new Uint8Array(present.length);
    native.readTagsAt(fd.value, addrs, out, good);
    for (let k = 0; k < present.length; k++) if (good[k]) tags[present[k]!] = out[k]!;
  } finally {
    native.procClose(fd.value);
  }
  return tags;
}

const ZERO_BIT = 1n << BigInt(KPF.ZERO_PAGE);
/**
 * MREMAP_LAB_NO_PAGEMAP_SCAN=1 observes as on a kernel without PAGEMAP_SCAN (before 6.7), so
 * the 6.1 path can be checked against the ioctl on a kernel that has both.
 */
const NO_SCAN = process.env['MREMAP_LAB_NO_PAGEMAP_SCAN'] === '1';

/**
 * trySnapshot(pid, start, end, opts): VMAs intersecting [start, end) with full extents, and
 * (opts.pages, default true) one PageView per page. start/end must be page aligned.
 * Errors (ENOENT: no such pid, EACCES/EPERM: not allowed) come back as results.
 */
export function trySnapshot(
  pid: number,
  start: bigint,
  end: bigint,
  opts: KernelSnapshotOptions = {},
): Result<KernelSnapshot> {
  if (start % PAGE !== 0n || end % PAGE !== 0n || end < start) {
    throw new RangeError(`snapshot window must be page aligned and ordered: ${start}-${end}`);
  }
  // Names tell shared anonymous memory from a memfd (both live on the shmem device).
  const w = queryWindow(pid, start, end, { names: true });
  if (!w.ok) return w;
  let smaps: Map<bigint, SmapsEntry> | null = null;
  let smapsList: SmapsEntry[] | null = null;
  if (opts.vmFlags) {
    const s = readSmaps(pid);
    if (!s.ok) return s;
    smapsList = s.value;
    smaps = new Map(s.value.map((e) => [e.start, e]));
  }
  const vmas = vmaViews(w.value, smaps);
  const base: KernelSnapshot = {
    start,
    end,
    vmas,
    pages: [],
    vmaSource: w.value.source,
    pageInfo: 'none',
    framesVisible: true,
    thpInfo: 'none',
    thpAmbiguous: 0,
  };
  if (opts.pages === false) return ok(base);

  return withPagemapFd<KernelSnapshot>(pid, (fd) => {
    const r = readPagemapFd(fd, start, end);
    if (!r.ok) return r;
    const pm = r.value;
    const present: number[] = [];
    let hidden = false;
    for (let i = 0; i < pm.count; i++) {
      const s = pm.state[i]!;
      if (s & PG.PRESENT) {
        present.push(i);
        if (s & PG.PFN_HIDDEN) hidden = true;
      }
    }
    const tags = opts.tags === false ? null : readTags(pid, pm, present);
    const thp = new Uint8Array(pm.count);
    const zero = new Uint8Array(pm.count);
    let pageInfo: PageInfoSource = 'none';
    let thpInfo: ThpMethod = 'none';
    let thpAmbiguous = 0;
    const thpUnknown = new Uint8Array(pm.count);
    let zeroKnown = false;
    if (present.length > 0 && !hidden) {
      const pfns = Float64Array.from(present, (i) => pm.pfn[i]!);
      const kf = readKpageflags(pfns);
      if (kf.ok) {
        zeroKnown = true;
        present.forEach((i, k) => {
          if (kf.value[k]! & ZERO_BIT) zero[i] = 1;
        });
      }
    }
    if (present.length > 0) {
      const sc = NO_SCAN
        ? err(25)
        : scanFd(fd, start, end, {
            anyof: PAGE_IS.HUGE | PAGE_IS.PFNZERO,
            returnMask: PAGE_IS.HUGE | PAGE_IS.PFNZERO,
          });
      if (sc.ok) {
        pageInfo = zeroKnown ? 'kpageflags' : 'pagemap_scan';
        thpInfo = 'pagemap_scan';
        const cats = categoriesPerPage(sc.value, start, end);
        for (const i of present) {
          if (cats[i]! & PAGE_IS.HUGE) thp[i] = 1;
          if (!zeroKnown && cats[i]! & PAGE_IS.PFNZERO) zero[i] = 1;
        }
      } else {
        const t = thpSlotsWithoutScan(fd, vmas, () => {
          if (smapsList) return smapsList;
          const s = readSmaps(pid);
          return s.ok ? s.value : [];
        });
        thpInfo = t.method;
        thpAmbiguous = t.ambiguous.length;
        const mark = (slots: bigint[], into: Uint8Array) => {
          for (const slot of slots) {
            const a = slot < start ? start : slot;
            const b = slot + PMD_SIZE > end ? end : slot + PMD_SIZE;
            if (a < b) into.fill(1, Number((a - start) / PAGE), Number((b - start) / PAGE));
          }
        };
        mark(t.slots, thp);
        mark(t.ambiguous, thpUnknown);
        if (zeroKnown) pageInfo = 'kpageflags';
        else {
          pageInfo = 'heuristic';
          heuristicZero(pm, present, vmas, zero);
        }
      }
    }
    const pages: PageView[] = new Array<PageView>(pm.count);
    for (let i = 0; i < pm.count; i++) {
      const s = pm.state[i]!;
      const isPresent = (s & PG.PRESENT) !== 0;
      const f = pm.pfn[i]!;
      pages[i] = {
        addr: start + BigInt(i) * PAGE,
        present: isPresent,
        frame: isPresent && f >= 0 ? BigInt(f) : null,
        tag: tags ? tags[i]! : null,
        thp: thp[i] === 1,
        zero: zero[i] === 1,
      };
      if (thpUnknown[i] === 1) pages[i]!.thpUnknown = true;
    }
    const snap: KernelSnapshot = {
      ...base,
      pages,
      pageInfo,
      framesVisible: !hidden,
      thpInfo,
      thpAmbiguous,
    };
    return ok(snap);
  });
}

/** Without kpageflags or PAGEMAP_SCAN: a present, not exclusive page of private anonymous memory. */
function heuristicZero(
  pm: PagemapRange,
  present: number[],
  vmas: VmaView[],
  zero: Uint8Array,
): void {
  let v = 0;
  for (const i of present) {
    const addr = pm.addr + BigInt(i) * PAGE;
    while (v < vmas.length && vmas[v]!.end <= addr) v++;
    const vma = vmas[v];
    if (!vma || vma.start > addr) continue;
    const s = pm.state[i]!;
    if (vma.kind === 'anon' && !vma.shared && !(s & PG.EXCLUSIVE) && !(s & PG.FILE)) zero[i] = 1;
  }
}

/**
 * snapshot(pid, start, end, opts) → the shared Snapshot type (a KernelSnapshot). For the
 * validator a process that cannot be observed is a broken environment, so this throws
 * SnapshotError; use trySnapshot() to get the errno as a result instead.
 */
export function snapshot(
  pid: number,
  start: bigint,
  end: bigint,
  opts?: KernelSnapshotOptions,
): KernelSnapshot {
  const r = trySnapshot(pid, start, end, opts);
  if (!r.ok) throw new SnapshotError(pid, r.code, r.errno);
  return r.value;
}

export class SnapshotError extends Error {
  constructor(
    readonly pid: number,
    readonly code: string,
    readonly errno: number,
  ) {
    super(`cannot observe pid ${pid}: ${code}`);
    this.name = 'SnapshotError';
  }
}
