/**
 * The ordered VMA set: plays the maple tree's part (mm_struct.mm_mt). A chunked sorted array
 * (chunks of at most CHUNK_MAX VMAs, located by binary search over each chunk's first start)
 * gives O(log n) lookup and O(log n + CHUNK_MAX) insert/remove; a doubly linked list through
 * the VMAs gives O(1) vma_prev()/vma_next().
 */
import type { Vma } from './vma.js';

const CHUNK_MAX = 256;

export class VmaTree {
  private chunks: Vma[][] = [];
  private firstStart: number[] = [];
  private count = 0;
  head: Vma | null = null;
  tail: Vma | null = null;

  /** mm->map_count. */
  get size(): number {
    return this.count;
  }

  /** Index of the last chunk whose first VMA starts at or below addr (−1 if none). */
  private chunkFor(addr: number): number {
    const fs = this.firstStart;
    let lo = 0;
    let hi = fs.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (fs[mid]! <= addr) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** Index in chunk of the last VMA with start <= addr (−1 if none). */
  private static idxIn(chunk: Vma[], addr: number): number {
    let lo = 0;
    let hi = chunk.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (chunk[mid]!.start <= addr) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The last VMA with start <= addr. */
  floor(addr: number): Vma | null {
    const ci = this.chunkFor(addr);
    if (ci < 0) return null;
    const chunk = this.chunks[ci]!;
    const i = VmaTree.idxIn(chunk, addr);
    return i < 0 ? null : chunk[i]!;
  }

  /** vma_lookup(): the VMA containing addr. */
  lookup(addr: number): Vma | null {
    const v = this.floor(addr);
    return v !== null && addr < v.end ? v : null;
  }

  /** find_vma(): the first VMA with vm_end > addr. */
  findVma(addr: number): Vma | null {
    const v = this.floor(addr);
    if (v === null) return this.head;
    return addr < v.end ? v : v.next;
  }

  /** find_vma_intersection(): the first VMA intersecting [start, end). */
  intersection(start: number, end: number): Vma | null {
    const v = this.findVma(start);
    return v !== null && v.start < end ? v : null;
  }

  insert(vma: Vma): void {
    const ci = this.chunkFor(vma.start);
    let prev: Vma | null;
    if (ci < 0) {
      if (this.chunks.length === 0) {
        this.chunks.push([vma]);
        this.firstStart.push(vma.start);
      } else {
        this.chunks[0]!.unshift(vma);
        this.firstStart[0] = vma.start;
        this.maybeSplit(0);
      }
      prev = null;
    } else {
      const chunk = this.chunks[ci]!;
      const i = VmaTree.idxIn(chunk, vma.start);
      chunk.splice(i + 1, 0, vma);
      prev = chunk[i]!;
      this.maybeSplit(ci);
    }
    const next = prev === null ? this.head : prev.next;
    vma.prev = prev;
    vma.next = next;
    if (prev === null) this.head = vma;
    else prev.next = vma;
    if (next === null) this.tail = vma;
    else next.prev = vma;
    this.count++;
  }

  private maybeSplit(ci: number): void {
    const chunk = this.chunks[ci]!;
    if (chunk.length <= CHUNK_MAX) return;
    const right = chunk.splice(chunk.length >> 1);
    this.chunks.splice(ci + 1, 0, right);
    this.firstStart.splice(ci + 1, 0, right[0]!.start);
  }

  private locate(vma: Vma): [number, number] {
    const ci = this.chunkFor(vma.start);
    const chunk = this.chunks[ci];
    if (chunk === undefined) throw new Error(`VmaTree: VMA at ${vma.start.toString(16)} not found`);
    const i = VmaTree.idxIn(chunk, vma.start);
    if (chunk[i] !== vma) throw new Error(`VmaTree: VMA at ${vma.start.toString(16)} not found`);
    return [ci, i];
  }

  remove(vma: Vma): void {
    const [ci, i] = this.locate(vma);
    const chunk = this.chunks[ci]!;
    chunk.splice(i, 1);
    if (chunk.length === 0) {
      this.chunks.splice(ci, 1);
      this.firstStart.splice(ci, 1);
    } else if (i === 0) this.firstStart[ci] = chunk[0]!.start;
    const { prev, next } = vma;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    vma.prev = vma.next = null;
    this.count--;
  }

  /** Changes a VMA's bounds in place; the caller guarantees order and no overlap. */
  setRange(vma: Vma, start: number, end: number): void {
    if (start !== vma.start) {
      const [ci, i] = this.locate(vma);
      vma.start = start;
      if (i === 0) this.firstStart[ci] = start;
    }
    vma.end = end;
  }

  *[Symbol.iterator](): IterableIterator<Vma> {
    for (let v = this.head; v !== null; v = v.next) yield v;
  }
}
