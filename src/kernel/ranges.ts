/**
 * A set of disjoint, sorted [start, end) address ranges: what an arena owns outside its own
 * span (adopted ranges) and what part of it is a hole.
 */
export interface Span {
  start: bigint;
  end: bigint;
}

export class RangeSet {
  private spans: Span[] = [];

  get list(): readonly Span[] {
    return this.spans;
  }

  get empty(): boolean {
    return this.spans.length === 0;
  }

  add(start: bigint, end: bigint): void {
    if (end <= start) return;
    const out: Span[] = [];
    let s = start;
    let e = end;
    for (const r of this.spans) {
      // Touching ranges join: adjacent adopted pages are one owned range.
      if (r.end < s || r.start > e) out.push(r);
      else {
        s = r.start < s ? r.start : s;
        e = r.end > e ? r.end : e;
      }
    }
    out.push({ start: s, end: e });
    this.spans = out.sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  remove(start: bigint, end: bigint): void {
    if (end <= start) return;
    const out: Span[] = [];
    for (const r of this.spans) {
      if (r.end <= start || r.start >= end) {
        out.push(r);
        continue;
      }
      if (r.start < start) out.push({ start: r.start, end: start });
      if (r.end > end) out.push({ start: end, end: r.end });
    }
    this.spans = out;
  }

  /** True if [start, end) lies wholly inside one range. */
  covers(start: bigint, end: bigint): boolean {
    return this.spans.some((r) => start >= r.start && end <= r.end);
  }

  /** Keeps only the parts that `keep` also holds (both sorted and disjoint). */
  intersect(keep: readonly Span[]): void {
    const out: Span[] = [];
    for (const r of this.spans) {
      for (const k of keep) {
        const s = r.start > k.start ? r.start : k.start;
        const e = r.end < k.end ? r.end : k.end;
        if (s < e) out.push({ start: s, end: e });
      }
    }
    this.spans = [];
    for (const r of out) this.add(r.start, r.end);
  }

  clear(): void {
    this.spans = [];
  }
}

/** The gaps of [start, end) not covered by `used` (sorted by start, may overlap the edges). */
export function gaps(start: bigint, end: bigint, used: readonly Span[]): Span[] {
  const out: Span[] = [];
  let at = start;
  for (const u of used) {
    if (u.end <= at) continue;
    if (u.start >= end) break;
    if (u.start > at) out.push({ start: at, end: u.start });
    if (u.end > at) at = u.end;
  }
  if (at < end) out.push({ start: at, end });
  return out;
}
