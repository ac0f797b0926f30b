/**
 * Kernel behaviour profiles: named bundles of switches, each citing the version or commit
 * that introduced it. Environment knobs that are not version behaviour (max_map_count, THP
 * mode, HAVE_MOVE_PMD/PUD, TASK_SIZE, …) are ModelSpace options instead.
 */

import { uffdApiFeaturesOf } from './uffd-features.js';

export type ValidationOrder =
  /** ≤6.14: SYSCALL_DEFINE5(mremap) with mremap_to()/vma_to_resize(). */
  | 'classic'
  /** 6.15–6.16: vma_remap_struct, check_mremap_params + remap_is_valid. */
  | 'vrm'
  /** 6.17+: check_mremap_params (TASK_SIZE/overlap first), check_prep_vma, remap_move. */
  | 'vrm-multi';

export interface Profile {
  readonly name: string;
  /**
   * The mainline release whose rules this profile bundles ("6.12"): scenario expectations
   * that carry a kernel range (`expect.kernels`) are checked on the model side against it.
   */
  readonly version: string;
  readonly description: string;
  readonly validation: ValidationOrder;
  /** mm/mremap.c:try_realign_addr / can_align_down — v6.7 (Joel Fernandes, af8ca1c14906). */
  readonly realign: boolean;
  /** mseal(2): 'none' before 6.10; 'range' can_modify_mm over the range (6.10–6.11); 'vma' per-VMA can_modify_vma (6.12+). */
  readonly mseal: 'none' | 'range' | 'vma';
  /** mm/vma.c:is_mergeable_anon_vma — '6.16' is 879bca0a2c4f (unfaulted/faulted merges), 'pre-6.16' the chain-singular rule. */
  readonly anonMerge: 'pre-6.16' | '6.16';
  /** Jan-2026 stable fix: copy_vma records copied_from and refuses case 1 when it is a fork child (6.18.y). */
  readonly copiedFromFix: boolean;
  /** mm/mremap.c:dontunmap_complete clears VM_ACCOUNT on the source: b714ccb02a76 (6.15) until the Oct-2025 fix. */
  readonly dontunmapClearsAccount: boolean;
  /** 6.15+: locked_vm grows by new_len on DONTUNMAP of a VM_LOCKED VMA. */
  readonly dontunmapLockedVmGrows: boolean;
  /**
   * mm/mprotect.c:mprotect_fixup drops VM_ACCOUNT of unfaulted anon made read-only: Lorenzo
   * Stoakes, "mm/mprotect: allow unfaulted VMAs to be unaccounted on mprotect()" (v2 posted
   * 7 Oct 2023, merged for 6.7 next to the vma_modify() series; not in 6.6).
   */
  readonly mprotectUnaccountUnfaulted: boolean;
  /** mm/mmap.c:__get_unmapped_area THP-aligns anon private PMD-multiple lengths (6.7; PMD-multiple limit ~6.12, backported). */
  readonly thpAlignUnmapped: boolean;
  /** move_normal_pmd/pud refuse uffd VMAs without EVENT_REMAP (uffd_supports_page_table_move; ~6.13). */
  readonly uffdBlocksTableMove: boolean;
  /**
   * mm/huge_memory.c:do_huge_zero_wp_pmd — a write fault on the huge zero PMD maps a fresh
   * THP (Dev Jain, "mm: Allocate THP on hugezeropage wp-fault", 6.13); before, the PMD was
   * split and only the written page replaced (seen on Debian's 6.12.117 and 6.1.0-57).
   */
  readonly hugeZeroWpAllocatesThp: boolean;
  /**
   * mm/mremap.c:move_vma splits a VM_LOCKED source at the moved range before a DONTUNMAP
   * move, so only that range loses VM_LOCKED. Read in Debian's linux-source 6.1.192 and seen
   * on 6.1.0-57 and 6.12.117 (stable trees); mainline 6.18 clears VM_LOCKED on the whole
   * unsplit source (dontunmap-locked-partial). 6.6 and 6.7 lie between two trees that have
   * it and are assumed to; 6.16/6.17 follow 6.18 (not checked on a real kernel).
   */
  readonly dontunmapSplitsLockedSource: boolean;
  /**
   * mm/mmap.c:copy_vma(…, keep_source) of the 6.1.y/6.12.y stable trees: "If the original
   * VMA is kept (MREMAP_DONTUNMAP) … disallow a self-merge": an unfaulted anonymous source
   * moved next to itself with DONTUNMAP gets a new VMA, no merge at all (Debian 6.1.0-57,
   * 6.12.117: fuzz finding, scenario dontunmap-adjacent-unfaulted-apart); this 6.18 host
   * merges the destination into the source. 6.6/6.7 assumed as 6.1/6.12, 6.16+ as 6.18.
   */
  readonly dontunmapKeepsSourceApart: boolean;
  /**
   * mm/huge_memory.c:__split_huge_page → remap_page(RMP_USE_SHARED_ZEROPAGE): splitting an
   * anonymous THP folio (split_folio: partial MADV_FREE/COLD/PAGEOUT) maps its all-zero
   * subpages to the shared zero page (Usama Arif, "mm: remap unused subpages to shared
   * zeropage when splitting isolated thp", 6.12).
   */
  readonly thpSplitZeroRemap: boolean;
  /**
   * MADV_GUARD_INSTALL/REMOVE (mm/madvise.c:madvise_guard_install, Lorenzo Stoakes): 'none'
   * before 6.13 (unknown advice: EINVAL); 'anon' 6.13–6.14 (is_valid_guard_vma: anonymous
   * VMAs with VM_MAYWRITE only); 'any' from 6.15 ("allow guard regions in file-backed and
   * read-only mappings").
   */
  readonly guardRegions: 'none' | 'anon' | 'any';
  /**
   * mm/khugepaged.c:hpage_collapse_scan_pmd — MADV_COLLAPSE of a PMD with no writable present
   * PTE (only empty, zero or read-only pages) fails SCAN_PAGE_RO → EINVAL. Seen on Debian's
   * 6.1.0-57 and 6.12.117 (madv-collapse-needs-anon-vma); 6.18 collapses it. The version that
   * dropped the check lies between 6.13 and 6.18 and is not pinned: 6.16/6.17 follow 6.18.
   */
  readonly collapseNeedsWritablePte: boolean;
  /**
   * madvise_collapse_errno of SCAN_EXCEED_NONE_PTE on a userfaultfd-armed VMA: EINVAL on
   * Debian's 6.1.0-57, EBUSY on 6.12.117 and 6.18 (madv-collapse-uffd-ebusy). 6.6/6.7 are
   * assumed to answer as 6.1 (not checked).
   */
  readonly collapseUffdEinval: boolean;
  /**
   * MADV_POPULATE_(READ|WRITE) is a madvise_walk_vmas visitor (mm/madvise.c:madvise_populate
   * per VMA, 5.14): holes are skipped and every VMA populated, ENOMEM at the end. 6.10 (David
   * Hildenbrand, "mm/madvise: don't perform madvise VMA walk for MADV_POPULATE_(READ|WRITE)")
   * populates the range at once and fails at the first hole. Seen on Debian's 6.1.0-57.
   */
  readonly populateWalksVmas: boolean;
  /** UFFD_API_FEATURES: the UFFDIO_API feature bits the release accepts (model/uffd-features.ts). */
  readonly uffdApiFeatures: number;
  /** RELOCATE_ANON RFC v2 flag bits (Appendix B), or null when the kernel rejects them. */
  readonly relocateAnon: { readonly relocate: bigint; readonly must: bigint } | null;
}

const base61: Profile = {
  name: 'linux-6.1',
  version: '6.1',
  description: 'Debian 12 era: classic mremap syscall body, no realign, pre-6.16 anon merge rule',
  validation: 'classic',
  realign: false,
  mseal: 'none',
  anonMerge: 'pre-6.16',
  copiedFromFix: false,
  dontunmapClearsAccount: false,
  dontunmapLockedVmGrows: false,
  mprotectUnaccountUnfaulted: false,
  thpAlignUnmapped: false,
  uffdBlocksTableMove: false,
  hugeZeroWpAllocatesThp: false,
  dontunmapSplitsLockedSource: true,
  dontunmapKeepsSourceApart: true,
  thpSplitZeroRemap: false,
  guardRegions: 'none',
  collapseNeedsWritablePte: true,
  collapseUffdEinval: true,
  populateWalksVmas: true,
  uffdApiFeatures: uffdApiFeaturesOf('6.1'),
  relocateAnon: null,
};

// Same mremap/merge rules as 6.1; userfaultfd gained WP_UNPOPULATED (6.4) and POISON (6.6).
const p66: Profile = {
  ...base61,
  name: 'linux-6.6',
  version: '6.6',
  description:
    'last LTS before the mutual-alignment realign (6.7); same mremap/merge rules as 6.1, uffd WP_UNPOPULATED and POISON',
  uffdApiFeatures: uffdApiFeaturesOf('6.6'),
};

const p67: Profile = {
  ...p66,
  name: 'linux-6.7',
  version: '6.7',
  description:
    'adds try_realign_addr/can_align_down (af8ca1c14906), THP-aligned anon placement, mprotect unaccounting unfaulted anon',
  realign: true,
  thpAlignUnmapped: true,
  mprotectUnaccountUnfaulted: true,
  uffdApiFeatures: uffdApiFeaturesOf('6.7'),
};

const p612: Profile = {
  ...p67,
  name: 'linux-6.12',
  version: '6.12',
  description: 'mm/vma.c split, mseal per-VMA can_modify_vma, uffd blocks table moves',
  mseal: 'vma',
  uffdBlocksTableMove: true,
  thpSplitZeroRemap: true,
  populateWalksVmas: false,
  collapseUffdEinval: false,
  uffdApiFeatures: uffdApiFeaturesOf('6.12'),
};

const p616: Profile = {
  ...p612,
  name: 'linux-6.16',
  version: '6.16',
  description:
    'vrm refactor (6.15) with the DONTUNMAP VM_ACCOUNT regression (b714ccb02a76); 879bca0a2c4f anon merges',
  validation: 'vrm',
  anonMerge: '6.16',
  guardRegions: 'any',
  dontunmapClearsAccount: true,
  dontunmapLockedVmGrows: true,
  hugeZeroWpAllocatesThp: true,
  dontunmapSplitsLockedSource: false,
  dontunmapKeepsSourceApart: false,
  collapseNeedsWritablePte: false,
};

const p617: Profile = {
  ...p616,
  name: 'linux-6.17',
  version: '6.17',
  description:
    'check_mremap_params/check_prep_vma reorder and multi-VMA remap_move (Jul-2025 series)',
  validation: 'vrm-multi',
};

const p618: Profile = {
  ...p617,
  name: 'linux-6.18',
  version: '6.18',
  description:
    'as 6.17 plus the Oct-2025 DONTUNMAP VM_ACCOUNT fix and the Jan-2026 copied_from fork-child merge fix (6.18.y stable)',
  dontunmapClearsAccount: false,
  copiedFromFix: true,
};

const rfc: Profile = {
  ...p616,
  name: 'relocate-anon-rfc',
  // The RFC was posted against the 6.15 merge window's mm tree; its rules are 6.16's.
  version: '6.16',
  description:
    'Lorenzo Stoakes, "[RFC PATCH v2 00/10] mm/mremap: introduce more mergeable mremap via MREMAP_RELOCATE_ANON" (22 Apr 2025), modelled on its 6.15/6.16-era mm base',
  relocateAnon: { relocate: 8n, must: 16n },
};

export const PROFILES: Readonly<Record<string, Profile>> = Object.freeze({
  'linux-6.1': base61,
  'linux-6.6': p66,
  'linux-6.7': p67,
  'linux-6.12': p612,
  'linux-6.16': p616,
  'linux-6.17': p617,
  'linux-6.18': p618,
  'relocate-anon-rfc': rfc,
});

export const DEFAULT_PROFILE = 'linux-6.18';

export function getProfile(name: string): Profile {
  const p = PROFILES[name];
  if (p === undefined) {
    throw new Error(
      `unknown model profile '${name}' (known: ${Object.keys(PROFILES).join(', ')}, or 'auto' via pickProfile)`,
    );
  }
  return p;
}

/** Returns a profile with some switches overridden (e.g. RELOCATE_ANON flag values of a later series). */
export function withOverrides(base: Profile, over: Partial<Profile>, name?: string): Profile {
  return { ...base, ...over, name: name ?? `${base.name}+custom` };
}

export interface ProbeFacts {
  /** uname -r, e.g. '6.18.44' or '6.1.0-27-amd64'. */
  release: string;
  /** mremap flag bits the kernel accepted (beyond EINVAL for unknown bits). */
  acceptedFlagBits?: number[];
  /** Did a multi-VMA FIXED same-size move succeed? */
  multiVmaMove?: boolean;
  /** Did the source keep VM_ACCOUNT after a DONTUNMAP move? */
  dontunmapKeepsAccount?: boolean;
  /** Does mseal exist (not ENOSYS)? */
  mseal?: boolean;
}

export interface PickedProfile {
  profile: Profile;
  reason: string;
}

function parseRelease(release: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m === null ? null : [Number(m[1]), Number(m[2])];
}

/** `auto`: picks a profile from uname and probe facts (pure; the scenario layer probes). */
export function pickProfile(facts: ProbeFacts): PickedProfile {
  const accepted = facts.acceptedFlagBits ?? [];
  if (accepted.includes(8) || accepted.includes(16)) {
    return {
      profile: rfc,
      reason: `kernel ${facts.release} accepts mremap flag bits ${accepted.join(',')}: RELOCATE_ANON series`,
    };
  }
  const v = parseRelease(facts.release);
  if (v === null) {
    return {
      profile: p618,
      reason: `unparsable release '${facts.release}': defaulting to linux-6.18`,
    };
  }
  const n = v[0] * 1000 + v[1];
  let profile: Profile;
  if (n >= 6018) profile = p618;
  else if (n >= 6017) profile = p617;
  else if (n >= 6015) profile = p616;
  else if (n >= 6012) profile = p612;
  else if (n >= 6007) profile = p67;
  else if (n >= 6002) profile = p66;
  else profile = base61;
  let reason = `release ${facts.release} → ${profile.name}`;
  if (facts.multiVmaMove === true && profile.validation !== 'vrm-multi') {
    profile = withOverrides(profile, { validation: 'vrm-multi' }, `${profile.name}+multi`);
    reason += '; probe saw multi-VMA moves, so 6.17 validation order';
  } else if (facts.multiVmaMove === false && profile.validation === 'vrm-multi') {
    profile = withOverrides(profile, { validation: 'vrm' }, `${profile.name}-multi`);
    reason += '; probe saw no multi-VMA moves, so 6.15/6.16 validation order';
  }
  if (facts.dontunmapKeepsAccount !== undefined) {
    const clears = !facts.dontunmapKeepsAccount;
    if (clears !== profile.dontunmapClearsAccount) {
      profile = withOverrides(profile, { dontunmapClearsAccount: clears }, `${profile.name}+acct`);
      reason += `; probe: DONTUNMAP ${clears ? 'clears' : 'keeps'} VM_ACCOUNT`;
    }
  }
  if (facts.mseal !== undefined && facts.mseal !== (profile.mseal !== 'none')) {
    profile = withOverrides(
      profile,
      { mseal: facts.mseal ? 'vma' : 'none' },
      `${profile.name}+mseal`,
    );
    reason += `; probe: mseal ${facts.mseal ? 'present' : 'absent'}`;
  }
  return { profile, reason };
}
