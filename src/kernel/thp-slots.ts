/**
 * Which PMD slots are mapped by a huge PMD, on kernels without PAGEMAP_SCAN (before 6.7,
 * e.g. Debian's 6.1), decided per slot rather than per VMA.
 *
 * A huge PMD maps a PMD-aligned 2 MiB slot lying wholly inside one VMA, with all 512 pages
 * present. smaps AnonHugePages counts exactly the PMD-mapped anonymous THPs of a VMA
 * (smaps_pmd_entry); pagemap tells which slots are fully present; kpageflags (root) tells
 * whether a slot is one folio (COMPOUND_HEAD then 511 COMPOUND_TAIL, consecutive PFNs, THP)
 * and recognises the huge zero page (ZERO_PAGE|THP on consecutive PFNs: a split huge zero
 * PMD maps the small zero page instead, __split_huge_zero_page_pmd). When a VMA has more
 * candidate slots than AnonHugePages accounts for (a THP still PTE-mapped after a PMD split
 * looks the same), the slots of that VMA are left unmarked and counted as ambiguous.
 */
import type { VmaView } from '../space/address-space.js';
import { PMD_SIZE } from '../space/constants.js';
import { KPF, readKpageflags } from './kpageflags.js';
import { PAGE, PG, readPagemapFd } from './pagemap.js';
import type { SmapsEntry } from './smaps.js';

export type ThpMethod = 'pagemap_scan' | 'kpageflags+smaps' | 'smaps' | 'none';

export interface ThpSlots {
  /** Start addresses of slots judged PMD-mapped. */
  slots: bigint[];
  method: ThpMethod;
  /** Candidate slots in VMAs where the evidence could not single out the huge ones. */
  ambiguous: bigint[];
}

const SLOT_PAGES = Number(PMD_SIZE / PAGE);
const bit = (n: number) => 1n << BigInt(n);
const HEAD = bit(KPF.COMPOUND_HEAD);
const TAIL = bit(KPF.COMPOUND_TAIL);
const THP = bit(KPF.THP);
const ZERO = bit(KPF.ZERO_PAGE);

type SlotKind = 'thp' | 'huge-zero' | 'candidate' | 'no';

/** One slot's evidence: pagemap presence, then (when readable) the folio's kpageflags. */
function classify(fd: number, slot: bigint): { kind: SlotKind; kpf: boolean } {
  const pm = readPagemapFd(fd, slot, slot + PMD_SIZE);
  if (!pm.ok) return { kind: 'no', kpf: false };
  const { state, pfn } = pm.value;
  for (let i = 0; i < SLOT_PAGES; i++)
    if (!(state[i]! & PG.PRESENT)) return { kind: 'no', kpf: false };
  if (state[0]! & PG.PFN_HIDDEN) return { kind: 'candidate', kpf: false };
  for (let i = 1; i < SLOT_PAGES; i++) if (pfn[i] !== pfn[0]! + i) return { kind: 'no', kpf: true };
  const kf = readKpageflags(Float64Array.from({ length: SLOT_PAGES }, (_, i) => pfn[i]!));
  if (!kf.ok) return { kind: 'candidate', kpf: false };
  const f = kf.value;
  if ([...f].every((x) => (x & (ZERO | THP)) === (ZERO | THP)))
    return { kind: 'huge-zero', kpf: true };
  const folio =
    (f[0]! & (HEAD | THP)) === (HEAD | THP) && f.subarray(1).every((x) => (x & TAIL) !== 0n);
  return { kind: folio ? 'candidate' : 'no', kpf: true };
}

/**
 * The PMD-mapped slots of the window's VMAs (each VMA whole, since AnonHugePages is per
 * VMA). `fd` is an open pagemap of the process; `smaps()` its smaps entries, read only when
 * some slot is a candidate (smaps walks every VMA of the process).
 */
export function thpSlotsWithoutScan(
  fd: number,
  vmas: readonly VmaView[],
  smaps: () => readonly SmapsEntry[],
): ThpSlots {
  let byStart: Map<bigint, SmapsEntry> | undefined;
  const out: ThpSlots = { slots: [], method: 'smaps', ambiguous: [] };
  for (const v of vmas) {
    const first = ((v.start + PMD_SIZE - 1n) / PMD_SIZE) * PMD_SIZE;
    if (first + PMD_SIZE > v.end) continue;
    const candidates: bigint[] = [];
    for (let s = first; s + PMD_SIZE <= v.end; s += PMD_SIZE) {
      const c = classify(fd, s);
      if (c.kpf) out.method = 'kpageflags+smaps';
      if (c.kind === 'huge-zero') out.slots.push(s);
      else if (c.kind === 'candidate') candidates.push(s);
    }
    if (candidates.length === 0) continue;
    byStart ??= new Map(smaps().map((e) => [e.start, e]));
    const huge = Number((byStart.get(v.start)?.sizes.anonHugePages ?? 0n) / PMD_SIZE);
    if (huge === 0) continue;
    if (candidates.length <= huge) out.slots.push(...candidates);
    else out.ambiguous.push(...candidates);
  }
  out.slots.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return out;
}
