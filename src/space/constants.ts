/**
 * x86-64 uapi constants shared by the kernel side and the model. Values from
 * include/uapi/asm-generic/mman-common.h, include/uapi/linux/mman.h and
 * arch/x86/include/uapi/asm/mman.h.
 */

export const PROT = {
  NONE: 0,
  READ: 0x1,
  WRITE: 0x2,
  EXEC: 0x4,
} as const;

export const MAP = {
  SHARED: 0x01,
  PRIVATE: 0x02,
  SHARED_VALIDATE: 0x03,
  FIXED: 0x10,
  ANONYMOUS: 0x20,
  GROWSDOWN: 0x0100,
  DENYWRITE: 0x0800,
  EXECUTABLE: 0x1000,
  LOCKED: 0x2000,
  NORESERVE: 0x4000,
  POPULATE: 0x8000,
  NONBLOCK: 0x10000,
  STACK: 0x20000,
  HUGETLB: 0x40000,
  FIXED_NOREPLACE: 0x100000,
} as const;

/**
 * mremap flags. RELOCATE_ANON and MUST_RELOCATE_ANON are the values of Lorenzo Stoakes'
 * RFC v2 series (Apr 2025, never merged); stock kernels reject them with EINVAL. The model
 * takes the values from its profile, so a revised series can be modelled without code changes.
 */
export const MREMAP = {
  MAYMOVE: 1n,
  FIXED: 2n,
  DONTUNMAP: 4n,
  RELOCATE_ANON: 8n,
  MUST_RELOCATE_ANON: 16n,
} as const;

export const MADV = {
  NORMAL: 0,
  RANDOM: 1,
  SEQUENTIAL: 2,
  WILLNEED: 3,
  DONTNEED: 4,
  FREE: 8,
  REMOVE: 9,
  DONTFORK: 10,
  DOFORK: 11,
  MERGEABLE: 12,
  UNMERGEABLE: 13,
  HUGEPAGE: 14,
  NOHUGEPAGE: 15,
  DONTDUMP: 16,
  DODUMP: 17,
  WIPEONFORK: 18,
  KEEPONFORK: 19,
  COLD: 20,
  PAGEOUT: 21,
  POPULATE_READ: 22,
  POPULATE_WRITE: 23,
  DONTNEED_LOCKED: 24,
  COLLAPSE: 25,
  GUARD_INSTALL: 102,
  GUARD_REMOVE: 103,
} as const;

/** mlock2() flags. */
export const MLOCK = {
  ONFAULT: 1,
} as const;

/**
 * include/uapi/linux/userfaultfd.h UFFD_FEATURE_* bits, by name without the prefix. Which
 * ones a kernel accepts in UFFDIO_API is version behaviour: src/model/uffd-features.ts.
 */
export const UFFD_FEATURE = {
  PAGEFAULT_FLAG_WP: 1 << 0,
  EVENT_FORK: 1 << 1,
  EVENT_REMAP: 1 << 2,
  EVENT_REMOVE: 1 << 3,
  MISSING_HUGETLBFS: 1 << 4,
  MISSING_SHMEM: 1 << 5,
  EVENT_UNMAP: 1 << 6,
  SIGBUS: 1 << 7,
  THREAD_ID: 1 << 8,
  MINOR_HUGETLBFS: 1 << 9,
  MINOR_SHMEM: 1 << 10,
  EXACT_ADDRESS: 1 << 11,
  WP_HUGETLBFS_SHMEM: 1 << 12,
  WP_UNPOPULATED: 1 << 13,
  POISON: 1 << 14,
  WP_ASYNC: 1 << 15,
  MOVE: 1 << 16,
} as const;

/** The UFFD_EVENT_* features: the kernel waits for the monitor to read each such event. */
export const UFFD_EVENT_FEATURES =
  UFFD_FEATURE.EVENT_FORK |
  UFFD_FEATURE.EVENT_REMAP |
  UFFD_FEATURE.EVENT_REMOVE |
  UFFD_FEATURE.EVENT_UNMAP;

/** UFFDIO_REGISTER_MODE_* (uffdio_register.mode). */
export const UFFDIO_REGISTER_MODE = {
  MISSING: 1 << 0,
  WP: 1 << 1,
  MINOR: 1 << 2,
} as const;

export const PAGE_SIZE = 4096n;
export const PMD_SIZE = 2n * 1024n * 1024n;
export const PUD_SIZE = 1024n * 1024n * 1024n;
/** arch/x86/include/asm/page_64_types.h TASK_SIZE_MAX with 4-level paging. */
export const TASK_SIZE_4LEVEL = 0x7ffffffff000n;

/**
 * `MAYMOVE|FIXED|0x100000000` style rendering of the full unsigned long; unknown bits stay
 * visible in hex.
 */
export function mremapFlagNames(flags: bigint): string {
  if (flags === 0n) return '0';
  const out: string[] = [];
  let rest = flags;
  for (const [name, bit] of Object.entries(MREMAP)) {
    if ((rest & bit) !== 0n) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) out.push(`0x${rest.toString(16)}`);
  return out.join('|');
}

export function protString(prot: number): string {
  return (
    (prot & PROT.READ ? 'r' : '-') +
    (prot & PROT.WRITE ? 'w' : '-') +
    (prot & PROT.EXEC ? 'x' : '-')
  );
}
