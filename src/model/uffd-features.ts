/**
 * When each UFFD_FEATURE_* entered UFFD_API_FEATURES (include/uapi/linux/userfaultfd.h):
 * fs/userfaultfd.c:userfaultfd_api refuses any requested bit outside that set with EINVAL.
 * Exact points: Debian's linux-source 6.1.192 ends at WP_HUGETLBFS_SHMEM, 6.12.118 at MOVE.
 * Between them, the merge window of each series (mm-commits / LWN):
 *   WP_UNPOPULATED 6.4 — Peter Xu, "mm/uffd: UFFD_FEATURE_WP_UNPOPULATED" (Mar 2023)
 *   POISON         6.6 — Axel Rasmussen, "mm: userfaultfd: add new UFFDIO_POISON ioctl" (Jul 2023)
 *   WP_ASYNC       6.7 — Peter Xu, "userfaultfd: UFFD_FEATURE_WP_ASYNC" (PAGEMAP_SCAN series, Aug 2023)
 *   MOVE           6.8 — Andrea Arcangeli / Suren Baghdasaryan, "userfaultfd: UFFDIO_MOVE uABI" (Dec 2023)
 * Nothing was added between 6.8 and 6.18. Everything older predates 6.1 (WP_HUGETLBFS_SHMEM,
 * the newest of them, is 5.19).
 */
import { UFFD_FEATURE } from '../space/constants.js';

type FeatureName = keyof typeof UFFD_FEATURE;

const SINCE: Readonly<Partial<Record<FeatureName, readonly [number, number]>>> = {
  WP_UNPOPULATED: [6, 4],
  POISON: [6, 6],
  WP_ASYNC: [6, 7],
  MOVE: [6, 8],
};

/** The UFFD_API_FEATURES mask of mainline release `version` ("6.6"). */
export function uffdApiFeaturesOf(version: string): number {
  const m = /^(\d+)\.(\d+)/.exec(version);
  const v = m === null ? [Infinity, 0] : [Number(m[1]), Number(m[2])];
  let mask = 0;
  for (const [name, bit] of Object.entries(UFFD_FEATURE) as [FeatureName, number][]) {
    const since = SINCE[name];
    if (since === undefined || v[0]! > since[0] || (v[0] === since[0] && v[1]! >= since[1]))
      mask |= bit;
  }
  return mask;
}
