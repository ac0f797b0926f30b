/**
 * A scenario is data: JSON in scenarios/ (schema in docs/scenario.schema.json, prose in
 * docs/scenarios.md) or the same objects from the TS builder (builder.ts). Addresses are
 * arena-relative expressions (address.ts), so one scenario runs in any arena whose
 * alignment it asks for, on the kernel and on the model alike.
 */
import type { FlagSpec } from '../space/flags.js';

/** `@N` page N of the arena, `name`, `name+K` / `name-K` pages, each optionally `+Nb` bytes; `=0x…` absolute. */
export type AddrExpr = string;

/** Pages (a number), or a raw byte count as a string: "4095b", "0x1000b", "-1b" (= 2^64-1). */
export type LenExpr = number | string;

export type Prot = string; // "rw", "r", "rwx", "none"

/** `file` / `file-private` map a file made by a `file` step (MAP_SHARED / MAP_PRIVATE). */
export type MappingKind = 'anon' | 'shared' | 'memfd' | 'memfd-private' | 'file' | 'file-private';

/** A range of the address space an expectation speaks of: [from, to). */
export interface Window {
  from: AddrExpr;
  to: AddrExpr;
}

export interface Expect {
  /**
   * The kernel versions this expectation holds for (">=6.17", "<6.17", ">=6.7 <6.16", "6.12").
   * Checked on the kernel side when its release is in range and on the model side when the
   * profile's version is; outside the range it is not checked (the result says so). The
   * kernel and the model are compared after every step regardless. Default: every kernel.
   */
  kernels?: string;
  /**
   * The range `vmas` and `vmaCount` speak of (default: the scenario's window). It may cover
   * memory a call placed outside the arena, whose VMAs are clipped to the range placed.
   */
  window?: Window;
  /** The call fails with this errno name. */
  errno?: string;
  /** The call succeeds (with any value unless `ret` is given). */
  ok?: boolean;
  /** The returned address, as an expression. */
  ret?: AddrExpr;
  /** Exact VMA list in the window after the step: [start, end, prot] (+ optional vmFlags). */
  vmas?: ExpectVma[];
  /** Number of VMAs in the window after the step. */
  vmaCount?: number;
  /** These named mappings (or addresses) lie in one VMA after the step. */
  merged?: AddrExpr[];
  /** These addresses lie in different VMAs after the step. */
  separate?: AddrExpr[];
  /**
   * Data tags: address → tag value, "zero" (reads 0) or "fault" (the tool's safe read gets
   * EFAULT: a load would raise SIGSEGV or SIGBUS, either). The LOAD_FAULTS values say what a
   * real CPU load (in a forked child) must do: no signal ("nofault"), that signal, or that
   * signal with that si_code.
   */
  tags?: Record<AddrExpr, number | string>;
  /** Page presence: address → true/false. */
  present?: Record<AddrExpr, boolean>;
  /** VmFlags that must (or with "!xx" must not) be set on the VMA at each address. */
  vmFlags?: Record<AddrExpr, string[]>;
  /** THP-mapped (true) or not (false) at each address. */
  thp?: Record<AddrExpr, boolean>;
}

export interface ExpectVma {
  start: AddrExpr;
  end: AddrExpr;
  prot?: string;
}

interface StepBase {
  /** Free text shown in reports. */
  note?: string;
  /** One expectation, or several that hold for different kernel ranges (`kernels`). */
  expect?: Expect | Expect[];
}

export interface MapStep extends StepBase {
  op: 'map';
  /** Binds this name to the mapping's start. */
  name?: string;
  at: AddrExpr;
  len: LenExpr;
  prot?: Prot;
  kind?: MappingKind;
  /** 'fixed' (default), 'noreplace', 'hint'. */
  placement?: 'fixed' | 'noreplace' | 'hint';
  noreserve?: boolean;
  populate?: boolean;
  locked?: boolean;
  /** MAP_HUGETLB (anonymous kinds only): 2 MiB hugetlb pages; needs a reserved pool. */
  hugetlb?: boolean;
  /** MAP_GROWSDOWN: a VM_GROWSDOWN ("gd") VMA, private anonymous only (EINVAL otherwise). */
  growsdown?: boolean;
  /** For memfd and file kinds: the file (a name bound by a memfd or file step) and page offset. */
  file?: string;
  offset?: number;
}

export interface MemfdStep extends StepBase {
  op: 'memfd';
  name: string;
  /** Size in pages. */
  pages: number;
  /**
   * Initial contents: page index → the 8-byte tag written (pwrite) at that page's start
   * before anything maps the file. Written pages are in the page cache; the others are holes.
   */
  tags?: Record<string, number>;
}

/**
 * A regular file of `pages` pages on a disk filesystem (TMPDIR: ext4, xfs or btrfs),
 * unlinked as soon as it is open. Every page is written (the tag from `tags`, else zeros)
 * and synced, so the whole file is in the page cache and faults never read the disk.
 * Needs `requires.features: ["diskFile"]`.
 */
export interface FileStep extends StepBase {
  op: 'file';
  name: string;
  pages: number;
  tags?: Record<string, number>;
}

export interface RangeStep extends StepBase {
  op: 'munmap' | 'mseal' | 'munlock';
  at: AddrExpr;
  len: LenExpr;
}

/** userfaultfd registration (UFFDIO_REGISTER), optionally on a new ctx (UFFDIO_API). */
export interface UffdStep extends StepBase {
  op: 'uffd';
  at: AddrExpr;
  len: LenExpr;
  /**
   * UFFD_FEATURE_* names without the prefix (EVENT_REMAP, POISON, …): a new userfaultfd is
   * opened with UFFDIO_API(these) and used from this step on. Absent: the current one (on
   * first use opened with no features).
   */
  features?: string[];
  /** Registration modes "missing" (default), "wp", "minor": a list, or joined by "|". */
  mode?: string | string[];
  /**
   * The space's userfaultfd is opened without UFFD_USER_MODE_ONLY, to handle
   * faults from kernel code too, which needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1
   * (else EPERM). Default: user-mode faults only where the kernel knows the flag (5.11+).
   * Decided by the step that opens it (the first uffd step, or one with `features`).
   */
  kernelFaults?: boolean;
}

export interface MprotectStep extends StepBase {
  op: 'mprotect';
  at: AddrExpr;
  len: LenExpr;
  prot: Prot;
  /** PROT_GROWSDOWN: the change reaches down to the start of the (VM_GROWSDOWN) VMA. */
  growsdown?: boolean;
}

export interface MadviseStep extends StepBase {
  op: 'madvise';
  at: AddrExpr;
  len: LenExpr;
  /** MADV_ name without the prefix (DONTNEED, HUGEPAGE, POPULATE_WRITE …) or a number. */
  advice: string | number;
}

export interface MlockStep extends StepBase {
  op: 'mlock';
  at: AddrExpr;
  len: LenExpr;
  onfault?: boolean;
}

export interface MremapStep extends StepBase {
  op: 'mremap';
  at: AddrExpr;
  oldLen: LenExpr;
  newLen: LenExpr;
  /**
   * The flags word: a number, a "0x..." string, names joined by "|" ("MAYMOVE|FIXED"), or a
   * list of these, ORed (["MAYMOVE", "FIXED"]). Names: MAYMOVE, FIXED, DONTUNMAP,
   * RELOCATE_ANON, MUST_RELOCATE_ANON. Bits above 2^53 need the string form.
   */
  flags?: FlagSpec;
  to?: AddrExpr;
  /** Rebinds this name to the result (default: the name `at` refers to, when `at` is a name). */
  name?: string;
}

export interface TouchStep extends StepBase {
  op: 'touch';
  at: AddrExpr;
  /** Pages from `at` (default 1). Each page gets the tag `tag + i`. */
  pages?: number;
  /** Tag of the first page (default: derived from the step index, unique in the scenario). */
  tag?: number;
}

export interface ReadStep extends StepBase {
  op: 'read';
  at: AddrExpr;
  pages?: number;
}

export interface ForkStep extends StepBase {
  /** fork: the child idles, holding the anon_vmas. fork-continue: later steps run in the child. */
  op: 'fork' | 'fork-continue';
  /** Binds the child for a later release step. */
  name?: string;
}

export interface ReleaseStep extends StepBase {
  op: 'release';
  child: string;
}

/** A step that only checks expectations. */
export interface CheckStep extends StepBase {
  op: 'check';
}

export type Step =
  | MapStep
  | MemfdStep
  | FileStep
  | RangeStep
  | UffdStep
  | MprotectStep
  | MadviseStep
  | MlockStep
  | MremapStep
  | TouchStep
  | ReadStep
  | ForkStep
  | ReleaseStep
  | CheckStep;

/** What the running kernel must have for the scenario to run; otherwise SKIP with the reason. */
export interface Requires {
  /** e.g. "6.17". */
  minKernel?: string;
  /** Probe features: multiVmaMove, mseal, userfaultfd, thp, relocateAnon, pfns, procmapQuery, pagemapScan, hugetlb (≥ 4 free 2 MiB pages), diskFile (TMPDIR on ext4, xfs or btrfs). */
  features?: string[];
  /** Run only when the chosen profile is one of these. */
  profiles?: string[];
}

export interface Scenario {
  id: string;
  title: string;
  /** Where the case comes from: a seed post, a selftest, LTP, gVisor, a bug. */
  source: string;
  tags?: string[];
  requires?: Requires;
  arena: {
    /** Pages. */
    pages: number;
    /** Alignment of the arena start: "4K", "2M", "1G" (default 2M). */
    align?: string;
  };
  /** Comparison window (default: the whole arena). */
  window?: Window;
  /** Compare VmFlags after every step (slower: smaps). Default false. */
  compareVmFlags?: boolean;
  /**
   * Machine settings for this run (sysctls.ts: "vm.max_map_count", "vm.overcommit_memory",
   * "vm.nr_hugepages", "transparent_hugepage/enabled"): written just before the steps,
   * read back for the model, restored after. Needs root; the scenario runs alone.
   */
  sysctls?: Record<string, number | string>;
  /**
   * "unprivileged": the kernel side runs in a worker started as nobody (uid and gid 65534,
   * no capabilities) and the model is told so. Default: the tool's own credentials.
   */
  user?: 'unprivileged';
  /** Resource limits for this run: RLIMIT_MEMLOCK's soft limit, pages or "Nb" bytes. */
  rlimits?: { memlock?: LenExpr };
  steps: Step[];
}

/**
 * The `tags` values a real load is checked against: no signal at all ("nofault"), the
 * signal (either si_code), or the signal with its si_code (include/uapi/asm-generic/siginfo.h).
 */
export const LOAD_FAULTS = [
  'nofault',
  'sigsegv',
  'sigbus',
  'segv_maperr',
  'segv_accerr',
  'bus_adrerr',
];

/** Probe features a scenario may require (see Requires.features). */
export const KNOWN_FEATURES = [
  'multiVmaMove',
  'mseal',
  'userfaultfd',
  'thp',
  'relocateAnon',
  'pfns',
  'procmapQuery',
  'pagemapScan',
  'hugetlb',
  'diskFile',
];
