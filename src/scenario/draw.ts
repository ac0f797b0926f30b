/**
 * Layouts drawn as text, one character per page (or per chunk of pages in wide windows), in
 * the style of the seeds' |DDDDddddSSSSssss|: each VMA gets a letter, upper case where the
 * page is present, lower case where it is not, '.' for a hole, '|' at VMA boundaries.
 */
import type { Snapshot, VmaView } from '../space/address-space.js';
import { PAGE_SIZE } from '../space/constants.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const MAX_COLUMNS = 96;

function rel(v: bigint, base: bigint): string {
  const d = v - base;
  // Outside the arena (a kernel-chosen destination): absolute.
  if (d < 0n || d >= 1n << 32n) return `0x${v.toString(16)}`;
  const pages = d / PAGE_SIZE;
  const bytes = d % PAGE_SIZE;
  return bytes === 0n ? `@${pages}` : `@${pages}+${bytes}b`;
}

export function describeVma(v: VmaView, base: bigint): string {
  const kind = v.kind === 'file' ? `file+0x${v.offset.toString(16)}` : v.kind;
  const flags = v.vmFlags ? ` [${v.vmFlags.join(' ')}]` : '';
  return `[${rel(v.start, base)}, ${rel(v.end, base)}) ${v.prot}${v.shared ? 's' : 'p'} ${kind}${flags}`;
}

/** Draws the window of a snapshot; `base` is the arena start (addresses shown relative to it). */
export function drawLayout(s: Snapshot, base: bigint): string {
  const pages = Number((s.end - s.start) / PAGE_SIZE);
  const chunk = Math.max(1, Math.ceil(pages / MAX_COLUMNS));
  const present = new Set<bigint>();
  for (const p of s.pages) if (p.present) present.add(p.addr);
  let line = '';
  let prev = -2;
  for (let i = 0; i < pages; i += chunk) {
    const addr = s.start + BigInt(i) * PAGE_SIZE;
    const idx = s.vmas.findIndex((v) => v.start <= addr && addr < v.end);
    if (idx !== prev && (idx >= 0 || prev >= 0)) line += '|';
    if (idx < 0) {
      line += '.';
    } else {
      let any = false;
      for (let k = 0; k < chunk && !any; k++) any = present.has(addr + BigInt(k) * PAGE_SIZE);
      const letter = LETTERS[idx % LETTERS.length]!;
      line += any ? letter : letter.toLowerCase();
    }
    prev = idx;
  }
  if (prev >= 0) line += '|';
  const legend = s.vmas.map((v, i) => `  ${LETTERS[i % LETTERS.length]} ${describeVma(v, base)}`);
  const scale = chunk > 1 ? ` (1 char = ${chunk} pages)` : '';
  return [`${line}${scale}`, ...legend].join('\n');
}

/** Two drawings side by side, labelled. */
export function sideBySide(
  leftTitle: string,
  left: string,
  rightTitle: string,
  right: string,
): string {
  return `${leftTitle}:\n${left}\n${rightTitle}:\n${right}`;
}
