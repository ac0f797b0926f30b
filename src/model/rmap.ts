/**
 * mm/rmap.c: anon_vma preparation and reuse (__anon_vma_prepare, find_mergeable_anon_vma,
 * reusable_anon_vma, anon_vma_compatible).
 */
import { Mm } from './mm.js';
import { AnonVma, VM, Vma } from './vma.js';

/** find_mergeable_anon_vma + __anon_vma_prepare (mm/rmap.c). */
export function anonVmaPrepare(mm: Mm, vma: Vma): void {
  if (vma.anonVma !== null) return;
  const reuse = findMergeableAnonVma(mm, vma);
  if (reuse !== null) {
    vma.anonVma = reuse;
    mm.tracer.note('find_mergeable_anon_vma', 'reused', `anon_vma ${reuse.id}`);
  } else {
    vma.anonVma = new AnonVma(null);
  }
  vma.chainLen = 1;
}

/** mm/rmap.c:find_mergeable_anon_vma — next first, then prev, via reusable_anon_vma. */
export function findMergeableAnonVma(mm: Mm, vma: Vma): AnonVma | null {
  const nx = vma.next;
  if (nx !== null && anonVmaCompatible(vma, nx) && nx.anonVma !== null && nx.chainLen === 1)
    return nx.anonVma;
  const pv = vma.prev;
  if (pv !== null && anonVmaCompatible(pv, vma) && pv.anonVma !== null && pv.chainLen === 1)
    return pv.anonVma;
  return null;
}

/** mm/rmap.c:anon_vma_compatible(a, b) — a directly below b, reusable anon_vma. */
export function anonVmaCompatible(a: Vma, b: Vma): boolean {
  return (
    a.end === b.start &&
    a.file === b.file &&
    ((a.flags ^ b.flags) & ~(VM.READ | VM.WRITE | VM.EXEC | VM.SOFTDIRTY)) === 0 &&
    b.pgoff === a.pgoff + a.pages
  );
}
