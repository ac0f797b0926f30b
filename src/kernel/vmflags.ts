/**
 * smaps `VmFlags:` mnemonics (fs/proc/task_mmu.c:show_smap_vma_flags). The kernel prints one
 * two-letter code per set vm_flags bit that has a mnemonic; some are config dependent
 * (sd: CONFIG_MEM_SOFT_DIRTY, ui, ss, mt, bt). Unknown codes are kept verbatim.
 */

/** Mnemonic → kernel flag name. */
export const VM_FLAG_NAMES: Readonly<Record<string, string>> = {
  rd: 'VM_READ',
  wr: 'VM_WRITE',
  ex: 'VM_EXEC',
  sh: 'VM_SHARED',
  mr: 'VM_MAYREAD',
  mw: 'VM_MAYWRITE',
  me: 'VM_MAYEXEC',
  ms: 'VM_MAYSHARE',
  gd: 'VM_GROWSDOWN',
  pf: 'VM_PFNMAP',
  lo: 'VM_LOCKED',
  io: 'VM_IO',
  sr: 'VM_SEQ_READ',
  rr: 'VM_RAND_READ',
  dc: 'VM_DONTCOPY',
  de: 'VM_DONTEXPAND',
  lf: 'VM_LOCKONFAULT',
  ac: 'VM_ACCOUNT',
  nr: 'VM_NORESERVE',
  ht: 'VM_HUGETLB',
  sf: 'VM_SYNC',
  ar: 'VM_ARCH_1',
  wf: 'VM_WIPEONFORK',
  dd: 'VM_DONTDUMP',
  bt: 'VM_ARM64_BTI',
  sd: 'VM_SOFTDIRTY',
  mm: 'VM_MIXEDMAP',
  hg: 'VM_HUGEPAGE',
  nh: 'VM_NOHUGEPAGE',
  mg: 'VM_MERGEABLE',
  um: 'VM_UFFD_MISSING',
  uw: 'VM_UFFD_WP',
  mt: 'VM_MTE',
  ui: 'VM_UFFD_MINOR',
  ss: 'VM_SHADOW_STACK',
  dp: 'VM_DROPPABLE',
  sl: 'VM_SEALED',
};

/**
 * Flags that never block a merge (mm/vma.c:is_mergeable_vma ignores VM_SOFTDIRTY up to 6.18).
 * Used only to explain why two neighbours did not merge.
 */
export const MERGE_IGNORED: ReadonlySet<string> = new Set(['sd']);

export interface VmFlags {
  /** Mnemonics in kernel order, as printed. */
  codes: readonly string[];
  /** Kernel names of the known ones. */
  names: readonly string[];
  /** Codes this table does not know (newer kernels), kept verbatim. */
  unknown: readonly string[];
  has(code: string): boolean;
}

/** Decodes the value of a `VmFlags:` line ("rd wr mr mw me ac "). */
export function decodeVmFlags(value: string): VmFlags {
  const codes = value.split(' ').filter((c) => c !== '');
  const set = new Set(codes);
  const names: string[] = [];
  const unknown: string[] = [];
  for (const c of codes) {
    const n = VM_FLAG_NAMES[c];
    if (n === undefined) unknown.push(c);
    else names.push(n);
  }
  return { codes, names, unknown, has: (code) => set.has(code) };
}

/** Codes present in one set and not the other, ignoring merge-ignored flags. */
export function vmFlagsDiff(
  a: readonly string[],
  b: readonly string[],
): { onlyA: string[]; onlyB: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  return {
    onlyA: a.filter((c) => !sb.has(c) && !MERGE_IGNORED.has(c)),
    onlyB: b.filter((c) => !sa.has(c) && !MERGE_IGNORED.has(c)),
  };
}
