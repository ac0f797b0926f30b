/** The observable state of an Mm (≙ /proc/pid/smaps and pagemap), as the shared Snapshot. */
import { Mm, PAGE, floorPmd } from './mm.js';
import { VM, vmFlagMnemonics } from './vma.js';
import type { PageView, Snapshot, SnapshotOptions, VmaView } from '../space/address-space.js';
import { PROT, protString } from '../space/constants.js';

export function snapshotRange(
  mm: Mm,
  start: bigint,
  end: bigint,
  opts?: SnapshotOptions,
): Snapshot {
  const s = Number(start);
  const e = Number(end);
  const vmas: VmaView[] = [];
  for (let v = mm.tree.findVma(s); v !== null && v.start < e; v = v.next) {
    const view: VmaView = {
      start: BigInt(v.start),
      end: BigInt(v.end),
      prot: protString(
        ((v.flags & VM.READ) !== 0 ? PROT.READ : 0) |
          ((v.flags & VM.WRITE) !== 0 ? PROT.WRITE : 0) |
          ((v.flags & VM.EXEC) !== 0 ? PROT.EXEC : 0),
      ),
      shared: (v.flags & VM.MAYSHARE) !== 0,
      kind: v.file === null ? 'anon' : v.file.kind,
      offset: v.file === null ? 0n : BigInt(v.pgoff) * 4096n,
    };
    if (opts?.vmFlags === true) {
      // fs/proc/task_mmu.c:show_smap_vma_flags prints only the mnemonics mm build knows.
      const known = mm.o.traits.vmflagMnemonics;
      const all = vmFlagMnemonics(v.flags);
      view.vmFlags = known === null ? all : all.filter((m) => known.includes(m));
    }
    vmas.push(view);
  }
  const pages: PageView[] = [];
  if (opts?.pages !== false) {
    for (let a = s; a < e; a += PAGE) {
      const pte = mm.ptes.get(a / PAGE);
      if (pte === undefined) {
        pages.push({
          addr: BigInt(a),
          present: false,
          frame: null,
          tag: null,
          thp: false,
          zero: false,
        });
      } else {
        pages.push({
          addr: BigInt(a),
          present: true,
          frame: mm.o.pfnsVisible ? BigInt(pte.frame) : null,
          tag: pte.fpage !== null ? pte.fpage.tag : pte.tag,
          // PageView.thp is page-table state: the slot is a huge PMD (not folio size).
          thp: mm.pt.hugePmds.has(floorPmd(a)),
          zero: pte.zero,
        });
      }
    }
  }
  return { start, end, vmas, pages, framesVisible: mm.o.pfnsVisible };
}
