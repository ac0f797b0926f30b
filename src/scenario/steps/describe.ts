/**
 * A step as people read it: the call with the scenario's own spellings (reports, explain,
 * the fuzzer's findings), and the step's fields as JSON without its note and expectations
 * (the fuzz report and the C reproducer's comments).
 */
import { mremapFlagNames } from '../../space/constants.js';
import type { Step } from '../types.js';
import { parseFlags } from './fields.js';

/** "mremap(@0, 4 pages, 4 pages, MAYMOVE|FIXED, @8)" */
export function describeStep(s: Step): string {
  const len = (l: number | string) =>
    typeof l === 'number' ? `${l} page${l === 1 ? '' : 's'}` : l;
  switch (s.op) {
    case 'map':
      return `mmap(${s.at}, ${len(s.len)}, ${s.prot ?? 'rw'}, ${s.kind ?? 'anon'}${s.hugetlb ? ' hugetlb' : ''}${s.growsdown ? ' growsdown' : ''}${s.placement && s.placement !== 'fixed' ? `, ${s.placement}` : ''})${s.name ? ` as ${s.name}` : ''}`;
    case 'mremap':
      return `mremap(${s.at}, ${len(s.oldLen)}, ${len(s.newLen)}, ${mremapFlagNames(parseFlags(s.flags, 'flags'))}${s.to ? `, ${s.to}` : ''})`;
    case 'mprotect':
      return `mprotect(${s.at}, ${len(s.len)}, ${s.prot}${s.growsdown ? ' growsdown' : ''})`;
    case 'madvise':
      return `madvise(${s.at}, ${len(s.len)}, ${s.advice})`;
    case 'touch':
    case 'read':
      return `${s.op}(${s.at}${s.pages ? `, ${s.pages} pages` : ''})`;
    case 'uffd': {
      const mode = s.mode === undefined ? '' : `, ${[s.mode].flat().join('|')}`;
      const feats = s.features === undefined ? '' : ` on a new ctx [${s.features.join(', ')}]`;
      return `uffd(${s.at}, ${len(s.len)}${mode}${s.kernelFaults ? ', kernel faults' : ''})${feats}`;
    }
    case 'munmap':
    case 'mseal':
    case 'munlock':
    case 'mlock':
      return `${s.op}(${s.at}, ${len(s.len)})`;
    case 'memfd':
    case 'file':
      return `${s.op}(${s.pages} pages${s.tags ? `, tags ${JSON.stringify(s.tags)}` : ''}) as ${s.name}`;
    case 'fork':
    case 'fork-continue':
      return s.op;
    case 'release':
      return `release(${s.child})`;
    case 'check':
      return 'check';
  }
}

/** The step's fields as JSON, without `note` and `expect`: what it does, all of it. */
export function stepJson(s: Step): string {
  const { note: _note, expect: _expect, ...call } = s;
  return JSON.stringify(call);
}
