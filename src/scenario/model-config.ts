/**
 * The one place that turns what `probe` measured into what the model is told: the profile
 * (version rules, picked by `auto` or named), the traits (what this build does) and the
 * machine (sysctls, THP mode, page-table move support). The CLI, the fuzzer, the scenario
 * workers and the tests all come through here, so a kernel that behaves differently from
 * its version changes every prediction the same way.
 */
import type { ProbeResult } from '../kernel/probe.js';
import type { ModelSpace } from '../model/address-space.js';
import { getProfile, pickProfile, type PickedProfile, type ProbeFacts } from '../model/profiles.js';
import { DEFAULT_TRAITS, type ModelTraits } from '../model/traits.js';
import { MNEMONICS } from '../model/vma.js';

/** The facts `auto` picks a profile from. */
export function profileFacts(p: ProbeResult): ProbeFacts {
  return {
    release: p.release,
    acceptedFlagBits: p.mremapFlags.filter((f) => f.accepted).map((f) => f.bit),
    multiVmaMove: p.multiVmaMove,
    mseal: p.mseal,
  };
}

/** `auto` → pickProfile on the probe's facts; any other name is that profile as written. */
export function resolveProfile(name: string, p: ProbeResult): PickedProfile {
  if (name === 'auto') return pickProfile(profileFacts(p));
  return { profile: getProfile(name), reason: 'chosen with --profile' };
}

/**
 * The model's traits from the probe. A trait the probe could not measure (null) keeps the
 * stock default, except hugeZeroPage, which cannot hold without the zero page itself.
 */
export function traitsFromProbe(p: ProbeResult): ModelTraits {
  const t = p.traits;
  const zeroPage = t.zeroPage.value ?? DEFAULT_TRAITS.zeroPage;
  const hugeZero = t.hugeZeroPage.value ?? t.thp.useZeroPage ?? DEFAULT_TRAITS.hugeZeroPage;
  const fab = t.faultAroundBytes.value;
  return {
    zeroPage,
    hugeZeroPage: zeroPage && hugeZero,
    ptReclaim: t.ptReclaim.value ?? DEFAULT_TRAITS.ptReclaim,
    faultAroundPages:
      fab === null ? DEFAULT_TRAITS.faultAroundPages : Math.max(1, Math.floor(fab / 4096)),
    vmflagMnemonics:
      t.vmflagMissing.length === 0
        ? null
        : MNEMONICS.map(([, m]) => m).filter((m) => !t.vmflagMissing.includes(m)),
  };
}

/** Probed traits with `--trait` overrides on top. */
export function resolveTraits(p: ProbeResult, overrides: Partial<ModelTraits> = {}): ModelTraits {
  return { ...traitsFromProbe(p), ...overrides };
}

type ModelOptions = NonNullable<ConstructorParameters<typeof ModelSpace>[0]>;

/** The machine the model stands for. */
export type MachineOptions = Required<
  Pick<
    ModelOptions,
    | 'maxMapCount'
    | 'thp'
    | 'haveMovePmd'
    | 'haveMovePud'
    | 'mmapMinAddr'
    | 'overcommit'
    | 'stackGuardGap'
  >
> &
  Pick<ModelOptions, 'rlimitStack'>;

/**
 * The machine's settings from the probe; where the probe could not read one, the kernel's
 * stock default (max_map_count 65530, THP madvise, HAVE_MOVE_PMD/PUD on, mmap_min_addr
 * 64 KiB, overcommit heuristic, a 256-page stack guard gap, no stack rlimit).
 */
export function machineFromProbe(p: ProbeResult): MachineOptions {
  return {
    maxMapCount: p.maxMapCount ?? 65530,
    thp: (p.thp.enabled as MachineOptions['thp'] | null) ?? 'madvise',
    haveMovePmd: p.config.haveMovePmd ?? true,
    haveMovePud: p.config.haveMovePud ?? true,
    mmapMinAddr: BigInt(p.mmapMinAddr ?? 65536),
    overcommit: (p.overcommitMemory ?? 0) as MachineOptions['overcommit'],
    // Probe results saved before these fields existed read as the kernel's defaults.
    stackGuardGap: p.stackGuardGap ?? 256,
    ...(p.rlimitStack !== null && p.rlimitStack !== undefined
      ? { rlimitStack: BigInt(p.rlimitStack) }
      : {}),
  };
}
