/**
 * Behaviour traits: what a kernel build does that its version does not tell — boot
 * parameters, Kconfig choices, sysfs knobs. The kernel side measures them (src/kernel/
 * traits.ts); the model is told them (a profile is the version's rules plus these traits)
 * and never reads the machine itself.
 */

export interface ModelTraits {
  /**
   * mm/memory.c:do_anonymous_page — a read fault on private anonymous memory maps the shared
   * zero page unless mm_forbids_zeropage() (s390 KVM guests; PVM's pvm_no_zero_page=1) or
   * the zero page is switched off. Without it the fault allocates a fresh exclusive page,
   * which needs vmf_anon_prepare(): the VMA gets an anon_vma, and that changes merges.
   */
  zeroPage: boolean;
  /**
   * mm/huge_memory.c:do_huge_pmd_anonymous_page — a read fault in a THP-eligible slot maps the
   * huge zero page when !mm_forbids_zeropage() and transparent_hugepage/use_zero_page is 1;
   * otherwise it allocates a THP (and an anon_vma) as a write fault would.
   */
  hugeZeroPage: boolean;
  /**
   * mm/pt_reclaim.c (CONFIG_PT_RECLAIM, 6.14, Qi Zheng): MADV_DONTNEED over a whole PMD range
   * of one VMA frees the emptied PTE table (reclaim_pt_is_enabled: end - start >= PMD_SIZE),
   * so a later fault there may map a THP again.
   */
  ptReclaim: boolean;
  /** mm/memory.c:fault_around_bytes (debugfs; 64 KiB by default), in pages. */
  faultAroundPages: number;
  /**
   * The VmFlags mnemonics this kernel prints (fs/proc/task_mmu.c:show_smap_vma_flags), or
   * null for "all the model knows". 'lf' came in 6.2 (8614d6c5eda0), 'sl' with mseal.
   */
  vmflagMnemonics: readonly string[] | null;
}

/** What the model assumes when told nothing: a stock x86-64 build with default knobs. */
export const DEFAULT_TRAITS: Readonly<ModelTraits> = Object.freeze({
  zeroPage: true,
  hugeZeroPage: true,
  ptReclaim: false,
  faultAroundPages: 16,
  vmflagMnemonics: null,
});

type Parser = (v: string) => ModelTraits[keyof ModelTraits];

function bool(name: string): Parser {
  return (v) => {
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
    throw new TraitError(`${name} takes true or false, not '${v}'`);
  };
}

const PARSERS: Readonly<Record<keyof ModelTraits, Parser>> = {
  zeroPage: bool('zeroPage'),
  hugeZeroPage: bool('hugeZeroPage'),
  ptReclaim: bool('ptReclaim'),
  faultAroundPages: (v) => {
    // Accept pages or bytes with a unit (64k, 65536b), as debugfs reports bytes.
    const m = /^(\d+)(b|k)?$/i.exec(v);
    if (!m)
      throw new TraitError(`faultAroundPages takes a page count (16) or bytes (64k), not '${v}'`);
    const n = Number(m[1]);
    const pages = m[2] === undefined ? n : (m[2].toLowerCase() === 'k' ? n * 1024 : n) / 4096;
    if (!Number.isInteger(pages) || pages < 1 || pages > 512 || (pages & (pages - 1)) !== 0)
      throw new TraitError(
        `faultAroundPages must be a power of two from 1 to 512 pages, not '${v}'`,
      );
    return pages;
  },
  vmflagMnemonics: (v) => {
    if (v === 'all') return null;
    const list = v.split(',').filter(Boolean);
    for (const x of list)
      if (!/^[a-z]{2}$/.test(x))
        throw new TraitError(
          `vmflagMnemonics takes 'all' or a comma list like rd,wr,lo; '${x}' is not a mnemonic`,
        );
    return list;
  },
};

export const TRAIT_NAMES = Object.keys(PARSERS) as (keyof ModelTraits)[];

export class TraitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraitError';
  }
}

/** Parses `--trait name=value` settings (repeatable) into overrides. */
export function parseTraitOverrides(settings: readonly string[]): Partial<ModelTraits> {
  const out: Record<string, unknown> = {};
  for (const s of settings) {
    const eq = s.indexOf('=');
    const name = eq < 0 ? s : s.slice(0, eq);
    if (!(name in PARSERS) || eq < 0) {
      throw new TraitError(
        `--trait '${s}': expected name=value with name one of ${TRAIT_NAMES.join(', ')}`,
      );
    }
    out[name] = PARSERS[name as keyof ModelTraits](s.slice(eq + 1));
  }
  return out as Partial<ModelTraits>;
}

/** `zeroPage=false hugeZeroPage=true …`: the traits in force, for reports and explain. */
export function describeTraits(t: ModelTraits): string {
  return TRAIT_NAMES.map((n) => {
    const v = t[n];
    return `${n}=${v === null ? 'all' : Array.isArray(v) ? v.join(',') : String(v)}`;
  }).join(' ');
}
