/** kernel/fork.c:dup_mmap (with mm/rmap.c:anon_vma_fork, mm/memory.c:copy_page_range) and exit_mmap. */
import { Mm, type ModelSpaceOptions, PAGE, floorPmd, floorPud } from './mm.js';
import { dropPte } from './pgtable.js';
import { AnonVma, VM, VM_LOCKED_MASK, VM_UFFD_FLAGS } from './vma.js';

/**
 * kernel/fork.c:dup_mmap — copies oldmm's VMAs into the fresh child mm (made with
 * optionsForChild and oldmm's World): the memfd table, anon_vma_fork and copy_page_range.
 */
export function dupMmap(mm: Mm, oldmm: Mm): void {
  mm.files = new Map(oldmm.files);
  mm.uffdCtx = null;
  for (const v of oldmm.tree) {
    if ((v.flags & VM.DONTCOPY) !== 0) continue;
    const c = v.dup(v.start, v.end, v.pgoff);
    // dup_mmap: VM_LOCKED is not inherited; uffd registration is dropped without EVENT_FORK.
    c.flags &= ~(VM_LOCKED_MASK | VM_UFFD_FLAGS);
    c.uffd = null;
    const wipe = (v.flags & VM.WIPEONFORK) !== 0;
    if (v.anonVma !== null && !wipe) {
      // mm/rmap.c:anon_vma_fork — a new anon_vma whose parent is the parent's; chain grows by one.
      const av = new AnonVma(v.anonVma);
      v.anonVma.numChildren++;
      mm.forkAnonVmas.push(av);
      c.anonVma = av;
      c.chainLen = v.chainLen + 1;
    } else {
      c.anonVma = null;
      c.chainLen = 0;
    }
    mm.tree.insert(c);
    // copy_page_range: only VMAs with an anon_vma (vma_needs_copy) get PTEs copied,
    // guard markers included (copy_nonpresent_pte).
    if (v.anonVma !== null && !wipe) {
      for (let p = v.start / PAGE; p < v.end / PAGE; p++)
        if (oldmm.guards.has(p)) {
          mm.guards.add(p);
          mm.pt.pmdTables.add(floorPud(p * PAGE));
          mm.pt.pteTables.add(floorPmd(p * PAGE));
        }
      oldmm.forEachPte(v.start, v.end, (pn, pte) => {
        if (pte.fpage === null && !pte.zero) oldmm.world.get(pte.frame);
        mm.ptes.set(pn, { ...pte });
        const a = pn * PAGE;
        mm.pt.pmdTables.add(floorPud(a));
        if (oldmm.pt.hugePmds.has(floorPmd(a))) mm.pt.hugePmds.add(floorPmd(a));
        else mm.pt.pteTables.add(floorPmd(a));
      });
    }
  }
}

/** The child's options: the parent's, without its hugetlb pool (dup_mm starts at 0 here). */
export function optionsForChild(mm: Mm): ModelSpaceOptions {
  const o: ModelSpaceOptions = {
    profile: mm.profile,
    window: { start: BigInt(mm.o.windowStart), end: BigInt(mm.o.windowEnd) },
    maxMapCount: mm.o.maxMapCount,
    otherMapCount: mm.o.otherMapCount,
    thp: mm.o.thp,
    haveMovePmd: mm.o.haveMovePmd,
    haveMovePud: mm.o.haveMovePud,
    taskSize: mm.o.taskSize,
    mmapMinAddr: mm.o.mmapMinAddr,
    overcommit: mm.o.overcommit,
    stackGuardGap: mm.o.stackGuardGap,
    trace: mm.o.trace,
    traits: mm.o.traits,
    pfnsVisible: mm.o.pfnsVisible,
    capSysPtrace: mm.o.capSysPtrace,
    unprivilegedUserfaultfd: mm.o.unprivilegedUserfaultfd,
  };
  if (mm.o.placeUnfixed !== undefined) o.placeUnfixed = mm.o.placeUnfixed;
  if (mm.o.rlimitAs !== undefined) o.rlimitAs = mm.o.rlimitAs;
  if (mm.o.rlimitMemlock !== undefined) o.rlimitMemlock = mm.o.rlimitMemlock;
  if (mm.o.rlimitStack !== undefined) o.rlimitStack = mm.o.rlimitStack;
  return o;
}

/** exit_mmap: frees pages and unlinks fork anon_vmas (parents' num_children drop); the facade then exits the children. */
export function exitMmap(mm: Mm): void {
  if (mm.dead) return;
  mm.dead = true;
  mm.world.spaces.delete(mm);
  for (const [pn, pte] of mm.ptes) dropPte(mm, pn, pte);
  const seen = new Set<AnonVma>();
  for (const v of mm.tree) if (v.anonVma !== null) seen.add(v.anonVma);
  for (const av of mm.forkAnonVmas) seen.add(av);
  for (const av of seen) if (av.parent !== null) av.parent.numChildren--;
}
