/**
 * Kernel vs model comparison of one step: the call's result, then the window's VMAs and
 * pages. Addresses are compared arena-relative. Frames cannot be compared across spaces
 * (PFNs vs model frame numbers), so each side labels its frames by first appearance and the
 * labels are compared: "the destination holds the frames the source held" then means the
 * same thing on both sides.
 */
import type { PageView, Snapshot, VmaView } from '../space/address-space.js';
import { PAGE_SIZE } from '../space/constants.js';
import { formatResult, type Result } from '../space/result.js';
import { describeVma } from './draw.js';

/** VmFlags the model tracks; others (mr, mw, me, …) are not compared. */
export const COMPARED_VMFLAGS = [
  'ac',
  'nr',
  'lo',
  'lf',
  'hg',
  'nh',
  'sl',
  'um',
  'uw',
  'ui',
] as const;

export class FrameLabeler {
  private readonly labels = new Map<bigint, string>();
  private next = 1;
  label(frame: bigint | null): string | null {
    if (frame === null) return null;
    let l = this.labels.get(frame);
    if (l === undefined) {
      l = `f${this.next++}`;
      this.labels.set(frame, l);
    }
    return l;
  }

  /**
   * Forgets frames no longer mapped in the window: the kernel reuses a freed PFN for the next
   * allocation while the model numbers frames afresh, so a kept label would make a new page
   * look like an old one. Both sides forget alike, so labels stay comparable.
   */
  retain(frames: ReadonlySet<bigint>): void {
    for (const f of this.labels.keys()) if (!frames.has(f)) this.labels.delete(f);
  }
}

/**
 * The frame whose identity is compared, or null. Only pages holding a written tag take
 * part: a page the kernel frees and reallocates within one step (MAP_FIXED over populated
 * memory, say) usually gets the same PFN back, which looks exactly like a kept page, while
 * the model gives it a new frame. Written data cannot be "reallocated" without a write, so
 * for tagged pages the PFN is evidence of moved-not-copied. Untagged pages are still
 * compared for presence, zero page, tag and THP.
 */
export function identityFrame(p: PageView): bigint | null {
  return p.present && !p.zero && p.tag !== null && p.tag !== 0n ? p.frame : null;
}

/** The frames that take part in identity checks in a snapshot (for FrameLabeler.retain). */
export function presentFrames(s: Snapshot): Set<bigint> {
  const out = new Set<bigint>();
  for (const p of s.pages) {
    const f = identityFrame(p);
    if (f !== null) out.add(f);
  }
  return out;
}

function relAddr(v: bigint, base: bigint): string {
  const d = v - base;
  if (d < 0n || d > 1n << 42n) return `0x${v.toString(16)}`;
  return d % PAGE_SIZE === 0n ? `@${d / PAGE_SIZE}` : `@${d / PAGE_SIZE}+${d % PAGE_SIZE}b`;
}

export function showResult(r: Result<unknown>, base: bigint): string {
  if (r.ok && typeof r.value === 'bigint' && r.value >= base) return relAddr(r.value, base);
  return formatResult(r);
}

/** Returns a difference description, or null when the results agree. */
export function diffResults(k: Result<unknown>, m: Result<unknown>, base: bigint): string | null {
  const ks = showResult(k, base);
  const ms = showResult(m, base);
  return ks === ms ? null : `result: kernel ${ks}, model ${ms}`;
}

function vmaKey(v: VmaView, base: bigint, flags: boolean): string {
  const f =
    flags && v.vmFlags
      ? v.vmFlags.filter((x) => (COMPARED_VMFLAGS as readonly string[]).includes(x)).sort()
      : [];
  return describeVma(
    { ...v, vmFlags: flags ? f : undefined, offset: v.kind === 'file' ? v.offset : 0n } as VmaView,
    base,
  );
}

export interface SnapshotDiffOptions {
  base: bigint;
  vmFlags: boolean;
  kFrames: FrameLabeler;
  mFrames: FrameLabeler;
}

/** Lists the differences between the kernel's and the model's view of the window. */
export function diffSnapshots(k: Snapshot, m: Snapshot, o: SnapshotDiffOptions): string[] {
  const out: string[] = [];
  const kv = k.vmas.map((v) => vmaKey(v, o.base, o.vmFlags));
  const mv = m.vmas.map((v) => vmaKey(v, o.base, o.vmFlags));
  if (kv.join('\n') !== mv.join('\n')) {
    out.push(
      `VMAs differ:\n    kernel: ${kv.join('\n            ') || '(none)'}\n    model:  ${mv.join('\n            ') || '(none)'}`,
    );
  }
  // fs/proc/task_mmu.c:pagemap_read zeroes PFNs for an opener without CAP_SYS_ADMIN: told
  // only once the kernel shows a present page.
  if (
    k.framesVisible !== undefined &&
    m.framesVisible !== undefined &&
    k.framesVisible !== m.framesVisible &&
    k.pages.some((p) => p.present)
  ) {
    const say = (v: boolean) => (v ? 'visible' : 'hidden');
    out.push(`PFNs in pagemap: kernel ${say(k.framesVisible)}, model ${say(m.framesVisible)}`);
  }
  const mByAddr = new Map<bigint, PageView>(m.pages.map((p) => [p.addr, p]));
  const pageDiffs: string[] = [];
  for (const kp of k.pages) {
    const mp = mByAddr.get(kp.addr);
    if (!mp) continue;
    const kl = o.kFrames.label(identityFrame(kp));
    const ml = o.mFrames.label(identityFrame(mp));
    const where = relAddr(kp.addr, o.base);
    if (kp.present !== mp.present) {
      pageDiffs.push(`${where}: present kernel ${kp.present}, model ${mp.present}`);
      continue;
    }
    if (!kp.present) continue;
    if (kp.zero !== mp.zero)
      pageDiffs.push(`${where}: zero page kernel ${kp.zero}, model ${mp.zero}`);
    else if (kp.tag !== null && mp.tag !== null && kp.tag !== mp.tag) {
      pageDiffs.push(
        `${where}: tag kernel 0x${kp.tag.toString(16)}, model 0x${mp.tag.toString(16)}`,
      );
    }
    if (kp.thp !== mp.thp && kp.thpUnknown !== true && mp.thpUnknown !== true)
      pageDiffs.push(`${where}: THP kernel ${kp.thp}, model ${mp.thp}`);
    // Frames are compared only where the kernel shows them (PFNs need CAP_SYS_ADMIN).
    if (kl !== null && ml !== null && kl !== ml) {
      pageDiffs.push(`${where}: frame kernel ${kl}, model ${ml} (frame identity differs)`);
    }
  }
  if (pageDiffs.length > 0) {
    const shown = pageDiffs.slice(0, 12);
    if (pageDiffs.length > shown.length)
      shown.push(`… and ${pageDiffs.length - shown.length} more pages`);
    out.push(`pages differ:\n    ${shown.join('\n    ')}`);
  }
  return out;
}
