// Definitions that Debian 12's 6.1 kernel headers lack. Layouts from include/uapi/linux/fs.h
// (PROCMAP_QUERY: v6.11; PAGEMAP_SCAN: v6.7) and include/uapi/linux/mman.h; the
// RELOCATE_ANON values are those of Lorenzo Stoakes' RFC v2 series (never merged).
#pragma once

#include <cstdint>
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/mman.h>
#include <sys/syscall.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MREMAP_RELOCATE_ANON
#define MREMAP_RELOCATE_ANON 8
#endif
#ifndef MREMAP_MUST_RELOCATE_ANON
#define MREMAP_MUST_RELOCATE_ANON 16
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef __NR_mseal
#define __NR_mseal 462
#endif
#ifndef __NR_mlock2
#define __NR_mlock2 325
#endif
#ifndef __NR_memfd_create
#define __NR_memfd_create 319
#endif
#ifndef __NR_userfaultfd
#define __NR_userfaultfd 323
#endif

namespace mrl {

// struct procmap_query (uapi/linux/fs.h, v6.11): 104 bytes.
struct procmap_query {
  uint64_t size;
  uint64_t query_flags;
  uint64_t query_addr;
  uint64_t vma_start;
  uint64_t vma_end;
  uint64_t vma_flags;
  uint64_t vma_page_size;
  uint64_t vma_offset;
  uint64_t inode;
  uint32_t dev_major;
  uint32_t dev_minor;
  uint32_t vma_name_size;
  uint32_t build_id_size;
  uint64_t vma_name_addr;
  uint64_t build_id_addr;
};
static_assert(sizeof(procmap_query) == 104);

constexpr unsigned long kProcmapQuery = _IOWR('f', 17, procmap_query);
constexpr uint64_t kProcmapVmaReadable = 0x01;
constexpr uint64_t kProcmapVmaWritable = 0x02;
constexpr uint64_t kProcmapVmaExecutable = 0x04;
constexpr uint64_t kProcmapVmaShared = 0x08;
constexpr uint64_t kProcmapCoveringOrNextVma = 0x10;
constexpr uint64_t kProcmapFileBackedVma = 0x20;

// struct page_region / struct pm_scan_arg (uapi/linux/fs.h, v6.7).
struct page_region {
  uint64_t start;
  uint64_t end;
  uint64_t categories;
};
static_assert(sizeof(page_region) == 24);

struct pm_scan_arg {
  uint64_t size;
  uint64_t flags;
  uint64_t start;
  uint64_t end;
  uint64_t walk_end;
  uint64_t vec;
  uint64_t vec_len;
  uint64_t max_pages;
  uint64_t category_inverted;
  uint64_t category_mask;
  uint64_t category_anyof_mask;
  uint64_t return_mask;
};
static_assert(sizeof(pm_scan_arg) == 96);

constexpr unsigned long kPagemapScan = _IOWR('f', 16, pm_scan_arg);

}  // namespace mrl
