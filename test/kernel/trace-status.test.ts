/**
 * The tracer's availability on the running kernel, checked against tracefs itself: the
 * status must say exactly what the files say (kprobe_events present or not, the filter
 * list readable or not), never skip to hide an unavailable tracer.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { discoverTracer, kallsymsIndex } from '../../src/kernel/trace/discover.js';
import { native } from '../../src/native.js';

describe('discoverTracer on this kernel', () => {
  const s = discoverTracer(native.unameRelease());

  it('reports kprobe_events and available_filter_functions as tracefs has them', () => {
    expect(s.tracefs).not.toBeNull();
    const dir = s.tracefs!;
    const hasKprobes = fs.existsSync(`${dir}/kprobe_events`);
    expect(s.kprobeEvents.startsWith(hasKprobes ? 'present' : 'absent')).toBe(true);
    let readable = true;
    try {
      fs.readFileSync(`${dir}/available_filter_functions`);
    } catch {
      readable = false;
    }
    expect(s.filterFunctions.startsWith(readable ? 'readable' : 'not readable')).toBe(true);
    if (!hasKprobes) {
      expect(s.problem).toBe(s.kprobeEvents);
      expect(s.method).toBe('none');
      expect(s.targets.every((t) => t.kprobe === 'no kprobe_events')).toBe(true);
    } else {
      // Each verdict is kprobe_events' own: a symbol absent from kallsyms is never "ok".
      for (const t of s.targets) if (!t.inKallsyms) expect(t.kprobe).not.toBe('ok');
    }
  });

  it('finds the symbols /proc/kallsyms lists', () => {
    const idx = kallsymsIndex(fs.readFileSync('/proc/kallsyms', 'utf8'), ['move_page_tables']);
    expect(s.targets[0]!.fn).toBe('move_page_tables');
    expect(s.targets[0]!.inKallsyms).toBe(idx.has('move_page_tables'));
  });
});
