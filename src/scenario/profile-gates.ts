/**
 * A scenario's `requires` judged against a profile instead of a probed kernel: what a
 * kernel of that version would have. `--model-only` gates by it (the model stands for the
 * profile's kernel), and so does the profile matrix for the profile standing in for the
 * kernel.
 */
import type { Profile } from '../model/profiles.js';
import { versionAtLeast } from './kernel-range.js';
import type { Scenario } from './types.js';

/**
 * Does a kernel of this profile have the probe feature? Interfaces follow the version
 * (mseal 6.10, PAGEMAP_SCAN 6.7, PROCMAP_QUERY 6.11, multi-VMA moves 6.17); hugetlb needs a
 * reserved pool and counts as absent; the rest are build options a stock kernel has.
 */
export function profileHasFeature(p: Profile, feature: string): boolean {
  switch (feature) {
    case 'multiVmaMove':
      return p.validation === 'vrm-multi';
    case 'mseal':
      return p.mseal !== 'none';
    case 'relocateAnon':
      return p.relocateAnon !== null;
    case 'pagemapScan':
      return versionAtLeast(p.version, '6.7');
    case 'procmapQuery':
      return versionAtLeast(p.version, '6.11');
    case 'hugetlb':
      return false;
    default:
      return true;
  }
}

/**
 * Why the scenario would not run with the model at `model` on a kernel like `kernel`, or
 * null. The hugetlb pool is the machine's, not the version's: `assumeHugetlb` counts it in.
 */
export function profileSkip(
  sc: Scenario,
  kernel: Profile,
  model: Profile,
  assumeHugetlb = false,
): string | null {
  const r = sc.requires;
  if (r === undefined) return null;
  if (r.profiles && !r.profiles.includes(model.name))
    return `runs only under profile ${r.profiles.join(' or ')} (chosen: ${model.name})`;
  if (r.minKernel && !versionAtLeast(kernel.version, r.minKernel))
    return `needs Linux ${r.minKernel}+, profile ${kernel.name} stands for ${kernel.version}`;
  const missing = (r.features ?? []).filter(
    (f) => !profileHasFeature(kernel, f) && !(assumeHugetlb && f === 'hugetlb'),
  );
  return missing.length > 0
    ? `a ${kernel.version} kernel (profile ${kernel.name}) lacks ${missing.join(', ')}`
    : null;
}
