// Observation: what the kernel did, read from procfs without faulting memory in.
//
// Only the hot parts live here: reading /proc/PID/maps in one go and parsing it into
// columns, the PROCMAP_QUERY window walk, pagemap pread + decode, PAGEMAP_SCAN, and
// kpageflags/kpagecount preads. Everything is returned as typed arrays so no per-VMA or
// per-page object crosses into JS; decoding policy that is not hot (names, kinds, VmFlags)
// lives in src/kernel/.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "uapi_compat.h"

namespace mrl {
namespace {

// ── small helpers ───────────────────────────────────────────────────────────────────

std::string Str(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a string");
  }
  return info[i].As<Napi::String>().Utf8Value();
}

// Checks the element type of a typed-array argument (programmer error otherwise).
template <typename T>
Napi::TypedArrayOf<T> Arr(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type,
                          const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(info.Env(),
                               std::string("argument ") + std::to_string(i) + " must be a " + what);
  }
  return info[i].As<Napi::TypedArrayOf<T>>();
}

// Reads a whole (size-less) procfs file. seq_file hands out at most one buffer per read(),
// so loop until EOF, growing geometrically. The buffer is thread-local and reused: a 60,000
// VMA maps file is ~4.5 MB, and allocating it per call would show in the benchmark.
int ReadWhole(const char* path, std::vector<char>& buf, size_t& len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  len = 0;
  if (buf.size() < (1u << 16)) buf.resize(1u << 16);
  for (;;) {
    if (buf.size() - len < (1u << 15)) buf.resize(buf.size() * 2);
    ssize_t n = read(fd, buf.data() + len, buf.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return e;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  close(fd);
  return 0;
}

// Digit values for the maps parser; -1 for every other byte, '\n' included, so a field
// scan stops at the end of its line without a bounds check (see ParseMapsToJs).
struct DigitTable {
  int8_t hex[256];
  constexpr DigitTable() : hex() {
    for (int c = 0; c < 256; ++c) hex[c] = -1;
    for (int c = 0; c < 10; ++c) hex['0' + c] = static_cast<int8_t>(c);
    for (int c = 0; c < 6; ++c) hex['a' + c] = hex['A' + c] = static_cast<int8_t>(10 + c);
  }
};
constexpr DigitTable kDigits;

// Parses hex digits at p; false if there were none. Stops at the first non-digit, which the
// caller guarantees exists (every line ends in '\n').
inline bool ParseHex(const char*& p, uint64_t& out) {
  const char* s = p;
  uint64_t v = 0;
  for (int d; (d = kDigits.hex[static_cast<uint8_t>(*p)]) >= 0; ++p) {
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  out = v;
  return p != s;
}

inline bool ParseDec(const char*& p, uint64_t& out) {
  const char* s = p;
  uint64_t v = 0;
  for (; static_cast<unsigned>(*p - '0') < 10; ++p) v = v * 10 + static_cast<uint64_t>(*p - '0');
  out = v;
  return p != s;
}

// Perm bits, shared by the text parser and PROCMAP_QUERY (same values as
// PROCMAP_QUERY_VMA_READABLE/WRITABLE/EXECUTABLE/SHARED, so both sources agree).
constexpr uint8_t kPermR = 0x1, kPermW = 0x2, kPermX = 0x4, kPermS = 0x8;

// Columnar VMA table: the common output of the text parser and the PROCMAP_QUERY walk.
struct VmaColumns {
  std::vector<uint64_t> start, end, offset, inode;
  std::vector<uint32_t> devMajor, devMinor, nameIdx;
  std::vector<uint8_t> perms;
  std::vector<std::string> names;  // names[0] is "" (no name)
  std::unordered_map<std::string, uint32_t> nameOf;
  size_t bad_line = 0;  // 1-based number of the first unparsable line, 0 if none

  VmaColumns() {
    names.emplace_back();
    nameOf.emplace(std::string(), 0);
  }
  void Reserve(size_t n) {
    start.reserve(n);
    end.reserve(n);
    offset.reserve(n);
    inode.reserve(n);
    devMajor.reserve(n);
    devMinor.reserve(n);
    nameIdx.reserve(n);
    perms.reserve(n);
  }
  uint32_t Intern(std::string_view s) {
    if (s.empty()) return 0;
    // Most processes have few distinct names; interning keeps JS string creation
    // proportional to distinct names, not to VMAs.
    auto it = nameOf.find(std::string(s));
    if (it != nameOf.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(names.size());
    names.emplace_back(s);
    nameOf.emplace(names.back(), id);
    return id;
  }
};

template <typename T>
Napi::TypedArrayOf<T> ToTyped(Napi::Env env, const std::vector<T>& v) {
  auto a = Napi::TypedArrayOf<T>::New(env, v.size());
  if (!v.empty()) memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

Napi::Object ColumnsToJs(Napi::Env env, const VmaColumns& c,
                         const std::vector<uint64_t>* pageSize) {
  Napi::Object t = Napi::Object::New(env);
  t.Set("count", Napi::Number::New(env, static_cast<double>(c.start.size())));
  t.Set("start", ToTyped(env, c.start));
  t.Set("end", ToTyped(env, c.end));
  t.Set("offset", ToTyped(env, c.offset));
  t.Set("inode", ToTyped(env, c.inode));
  t.Set("devMajor", ToTyped(env, c.devMajor));
  t.Set("devMinor", ToTyped(env, c.devMinor));
  t.Set("perms", ToTyped(env, c.perms));
  t.Set("nameIdx", ToTyped(env, c.nameIdx));
  Napi::Array names = Napi::Array::New(env, c.names.size());
  for (size_t i = 0; i < c.names.size(); ++i) {
    names.Set(static_cast<uint32_t>(i), Napi::String::New(env, c.names[i]));
  }
  t.Set("names", names);
  t.Set("badLine", Napi::Number::New(env, static_cast<double>(c.bad_line)));
  if (pageSize) t.Set("pageSize", ToTyped(env, *pageSize));
  return t;
}

// ── maps text ───────────────────────────────────────────────────────────────────────

// Parses maps text straight into JS-owned buffers sized by the line count: no intermediate
// vectors and no copy. The text must end in '\n' (mapsRead appends one if missing, mapsParse
// copies text that lacks it): every field scan then stops at a byte that cannot belong to the
// field, at the latest the line's '\n', so the hot loop has no bounds checks and finds a
// line's end only after its inode (anonymous VMAs, most of a big table, have no name to
// search). Names are interned through string_views into `text` (alive for the whole call); a
// run of VMAs of the same file (text, data, bss…) hits the previous name without hashing.
Napi::Object ParseMapsToJs(Napi::Env env, const char* text, size_t len) {
  size_t lines = 0;
  for (const char* q = text;
       (q = static_cast<const char*>(memchr(q, '\n', static_cast<size_t>(text + len - q)))); ++q) {
    ++lines;
  }
  auto ab64 = [&](size_t n) { return Napi::ArrayBuffer::New(env, n * 8 + 8); };
  auto ab32 = [&](size_t n) { return Napi::ArrayBuffer::New(env, n * 4 + 4); };
  Napi::ArrayBuffer bStart = ab64(lines), bEnd = ab64(lines), bOff = ab64(lines),
                    bIno = ab64(lines), bMaj = ab32(lines), bMin = ab32(lines), bName = ab32(lines),
                    bPerm = Napi::ArrayBuffer::New(env, lines + 1);
  uint64_t* cStart = static_cast<uint64_t*>(bStart.Data());
  uint64_t* cEnd = static_cast<uint64_t*>(bEnd.Data());
  uint64_t* cOff = static_cast<uint64_t*>(bOff.Data());
  uint64_t* cIno = static_cast<uint64_t*>(bIno.Data());
  uint32_t* cMaj = static_cast<uint32_t*>(bMaj.Data());
  uint32_t* cMin = static_cast<uint32_t*>(bMin.Data());
  uint32_t* cName = static_cast<uint32_t*>(bName.Data());
  uint8_t* cPerm = static_cast<uint8_t*>(bPerm.Data());
  std::vector<std::string_view> names{std::string_view()};
  std::unordered_map<std::string_view, uint32_t> nameOf;
  std::string_view lastName;
  uint32_t lastId = 0;
  size_t n = 0, line = 0, bad = 0;
  const char* p = text;
  const char* const end = text + len;
  while (p < end) {
    ++line;
    const char* q = p;
    uint64_t s, en, off, maj, min, ino;
    bool good = ParseHex(q, s) && *q == '-' && ParseHex(++q, en) && *q == ' ';
    // Each perm byte is checked before the next is read, so a short line stops at its '\n'.
    good = good && (q[1] == 'r' || q[1] == '-') && (q[2] == 'w' || q[2] == '-') &&
           (q[3] == 'x' || q[3] == '-') && (q[4] == 's' || q[4] == 'p') && q[5] == ' ';
    if (good) {
      cPerm[n] = static_cast<uint8_t>((q[1] == 'r') * kPermR | (q[2] == 'w') * kPermW |
                                      (q[3] == 'x') * kPermX | (q[4] == 's') * kPermS);
      q += 6;
      good = ParseHex(q, off) && *q == ' ' && ParseHex(++q, maj) && *q == ':' &&
             ParseHex(++q, min) && *q == ' ' && ParseDec(++q, ino);
    }
    if (good) {
      while (*q == ' ') ++q;
      const char* e = q;
      if (*q != '\n') {
        e = static_cast<const char*>(memchr(q, '\n', static_cast<size_t>(end - q)));
      }
      p = e + 1;
      uint32_t id = 0;
      if (e != q) {
        std::string_view nm(q, static_cast<size_t>(e - q));
        if (nm != lastName) {
          auto [it, fresh] = nameOf.try_emplace(nm, static_cast<uint32_t>(names.size()));
          if (fresh) names.push_back(nm);
          lastName = nm;
          lastId = it->second;
        }
        id = lastId;
      }
      cStart[n] = s;
      cEnd[n] = en;
      cOff[n] = off;
      cIno[n] = ino;
      cMaj[n] = static_cast<uint32_t>(maj);
      cMin[n] = static_cast<uint32_t>(min);
      cName[n] = id;
      ++n;
      continue;
    }
    // An empty line is skipped; anything else unparsable is reported by its number.
    const char* e = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    if (e != p && !bad) bad = line;
    p = e + 1;
  }
  Napi::Object t = Napi::Object::New(env);
  t.Set("count", Napi::Number::New(env, static_cast<double>(n)));
  t.Set("start", Napi::BigUint64Array::New(env, n, bStart, 0));
  t.Set("end", Napi::BigUint64Array::New(env, n, bEnd, 0));
  t.Set("offset", Napi::BigUint64Array::New(env, n, bOff, 0));
  t.Set("inode", Napi::BigUint64Array::New(env, n, bIno, 0));
  t.Set("devMajor", Napi::Uint32Array::New(env, n, bMaj, 0));
  t.Set("devMinor", Napi::Uint32Array::New(env, n, bMin, 0));
  t.Set("perms", Napi::Uint8Array::New(env, n, bPerm, 0));
  t.Set("nameIdx", Napi::Uint32Array::New(env, n, bName, 0));
  Napi::Array arr = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    arr.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i].data(), names[i].size()));
  }
  t.Set("names", arr);
  t.Set("badLine", Napi::Number::New(env, static_cast<double>(bad)));
  return t;
}

// mapsRead(pid): read /proc/PID/maps in one go and parse it (show_map_vma format).
Napi::Value MapsRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t pid = I64(info, 0);
  thread_local std::vector<char> buf;
  size_t len = 0;
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  if (int e = ReadWhole(path.c_str(), buf, len)) return Errno(env, e);
  // show_map_vma ends every line in '\n'; ReadWhole leaves room for one more byte anyway.
  if (len > 0 && buf[len - 1] != '\n') buf[len++] = '\n';
  return Ok(env, ParseMapsToJs(env, buf.data(), len));
}

// mapsParse(text: Uint8Array): the same parser over captured text (fixtures, smaps headers).
Napi::Value MapsParse(const Napi::CallbackInfo& info) {
  auto a = Arr<uint8_t>(info, 0, napi_uint8_array, "Uint8Array");
  const char* text = reinterpret_cast<const char*>(a.Data());
  size_t len = a.ElementLength();
  if (len == 0 || text[len - 1] == '\n') return ParseMapsToJs(info.Env(), text, len);
  // The parser needs a final '\n'; captured text may lack it, and the caller's bytes are
  // not ours to extend.
  std::string copy(text, len);
  copy += '\n';
  return ParseMapsToJs(info.Env(), copy.data(), copy.size());
}

// readProcText(path): a whole procfs text file as a string (smaps, smaps_rollup, status).
Napi::Value ReadProcText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = Str(info, 0);
  thread_local std::vector<char> buf;
  size_t len = 0;
  if (int e = ReadWhole(path.c_str(), buf, len)) return Errno(env, e);
  return Ok(env, Napi::String::New(env, buf.data(), len));
}

// ── fds ─────────────────────────────────────────────────────────────────────────────

// procOpen(pid, file): open /proc/PID/<file> read-only. file is "maps", "pagemap", "mem",
// "kpageflags" or "kpagecount" (pid ignored for the last two). The pagemap fd's opener
// credentials decide PFN visibility (pagemap_open records file_ns_capable(CAP_SYS_ADMIN)).
Napi::Value ProcOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t pid = I64(info, 0);
  std::string file = Str(info, 1);
  std::string path;
  if (file == "kpageflags" || file == "kpagecount") {
    path = "/proc/" + file;
  } else if (file == "maps" || file == "pagemap" || file == "mem") {
    path = "/proc/" + std::to_string(pid) + "/" + file;
  } else {
    throw Napi::TypeError::New(env, "unknown proc file " + file);
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(env, errno);
  return OkNum(env, fd);
}

Napi::Value ProcClose(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(I64(info, 0));
  if (close(fd) != 0) return Errno(info.Env(), errno);
  return OkNum(info.Env(), 0);
}

// ── PROCMAP_QUERY ───────────────────────────────────────────────────────────────────

// One ioctl; name into `name` (grown on ENAMETOOLONG). Returns 0 or an errno.
int QueryOne(int fd, uint64_t addr, uint64_t flags, bool wantName, std::vector<char>& name,
             procmap_query& q) {
  for (;;) {
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_flags = flags;
    q.query_addr = addr;
    if (wantName) {
      q.vma_name_size = static_cast<uint32_t>(name.size());
      q.vma_name_addr = reinterpret_cast<uintptr_t>(name.data());
    }
    if (ioctl(fd, kProcmapQuery, &q) == 0) return 0;
    if (errno == EINTR) continue;
    // fs/proc/task_mmu.c:do_procmap_query() — ENAMETOOLONG when the buffer is too small.
    if (errno == ENAMETOOLONG && wantName && name.size() < (1u << 20)) {
      name.resize(name.size() * 2);
      continue;
    }
    return errno;
  }
}

// procmapQuery(fd, addr, flags): one query; value is the struct's fields plus the name.
Napi::Value ProcmapQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(I64(info, 0));
  uint64_t addr = U64(info, 1);
  uint64_t flags = U64(info, 2);
  thread_local std::vector<char> name(4096);
  procmap_query q;
  if (int e = QueryOne(fd, addr, flags, true, name, q)) return Errno(env, e);
  Napi::Object v = Napi::Object::New(env);
  v.Set("start", Napi::BigInt::New(env, q.vma_start));
  v.Set("end", Napi::BigInt::New(env, q.vma_end));
  v.Set("flags", Napi::Number::New(env, static_cast<double>(q.vma_flags)));
  v.Set("pageSize", Napi::BigInt::New(env, q.vma_page_size));
  v.Set("offset", Napi::BigInt::New(env, q.vma_offset));
  v.Set("inode", Napi::BigInt::New(env, q.inode));
  v.Set("devMajor", q.dev_major);
  v.Set("devMinor", q.dev_minor);
  v.Set("name", q.vma_name_size ? Napi::String::New(env, name.data(), q.vma_name_size - 1)
                                : Napi::String::New(env, ""));
  return Ok(env, v);
}

// procmapQueryWindow(fd, start, end, wantNames): every VMA intersecting [start, end), by
// walking with PROCMAP_QUERY_COVERING_OR_NEXT_VMA (query_matching_vma: first vm_end > addr).
// One native call for the whole window. ENOTTY/EINVAL on the first call mean "no ioctl"
// (pre-6.11); the caller falls back to the text parser.
Napi::Value ProcmapQueryWindow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(I64(info, 0));
  uint64_t start = U64(info, 1);
  uint64_t end = U64(info, 2);
  bool wantNames = info.Length() > 3 && info[3].ToBoolean().Value();
  thread_local std::vector<char> name(4096);
  VmaColumns c;
  std::vector<uint64_t> pageSize;
  uint64_t addr = start;
  procmap_query q;
  while (addr < end) {
    int e = QueryOne(fd, addr, kProcmapCoveringOrNextVma, wantNames, name, q);
    if (e == ENOENT) break;  // nothing at or above addr
    if (e) return Errno(env, e);
    if (q.vma_start >= end) break;
    c.start.push_back(q.vma_start);
    c.end.push_back(q.vma_end);
    c.offset.push_back(q.vma_offset);
    c.inode.push_back(q.inode);
    c.devMajor.push_back(q.dev_major);
    c.devMinor.push_back(q.dev_minor);
    c.perms.push_back(static_cast<uint8_t>(q.vma_flags & 0xf));
    pageSize.push_back(q.vma_page_size);
    c.nameIdx.push_back(wantNames && q.vma_name_size
                            ? c.Intern(std::string_view(name.data(), q.vma_name_size - 1))
                            : 0);
    if (q.vma_end <= addr) break;  // cannot happen; guards against a loop
    addr = q.vma_end;
  }
  return Ok(env, ColumnsToJs(env, c, &pageSize));
}

// ── pagemap ─────────────────────────────────────────────────────────────────────────

// pread the whole range in one call (pagemap_read walks it in PAGEMAP_WALK_SIZE chunks
// internally). Short reads happen only at the end of the user address space.
int PreadAll(int fd, void* dst, size_t bytes, uint64_t off, size_t& got) {
  got = 0;
  char* d = static_cast<char*>(dst);
  while (got < bytes) {
    ssize_t n = pread(fd, d + got, bytes - got, static_cast<off_t>(off + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return 0;
}

// pagemapRead(fd, addr, count, out: BigUint64Array): raw entries, one pread, straight into
// the caller's array. Value: entries read.
Napi::Value PagemapRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(I64(info, 0));
  uint64_t addr = U64(info, 1);
  size_t count = static_cast<size_t>(I64(info, 2));
  auto out = Arr<uint64_t>(info, 3, napi_biguint64_array, "BigUint64Array");
  if (out.ElementLength() < count) throw Napi::RangeError::New(env, "out is too small");
  size_t got;
  if (int e = PreadAll(fd, out.Data(), count * 8, (addr / 4096) * 8, got)) return Errno(env, e);
  return OkNum(env, static_cast<double>(got / 8));
}

// Decoded pagemap state bits (src/kernel/pagemap.ts mirrors these).
// fs/proc/task_mmu.c: PM_PRESENT 63, PM_SWAP 62, PM_FILE 61, PM_GUARD_REGION 58,
// PM_UFFD_WP 57, PM_MMAP_EXCLUSIVE 56, PM_SOFT_DIRTY 55, PFN bits 0..54.
constexpr uint8_t kPgPresent = 1, kPgSwapped = 2, kPgFile = 4, kPgExclusive = 8, kPgSoftDirty = 16,
                  kPgUffdWp = 32, kPgGuard = 64, kPgPfnHidden = 128;
constexpr uint64_t kPfnMask = (1ull << 55) - 1;

// pagemapDecode(fd, addr, count, state: Uint8Array, pfn: Float64Array): one pread, then the
// decode loop here so no per-page work happens in JS. pfn[i] is the PFN for present pages
// whose frame is visible, the raw swap payload (type | offset<<5) for swapped entries when
// non-zero, else -1. A present entry with PFN field 0 means the opener lacked CAP_SYS_ADMIN
// (pte_to_pagemap_entry zeroes it; frame 0 is never a user page on x86): kPgPfnHidden.
Napi::Value PagemapDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(I64(info, 0));
  uint64_t addr = U64(info, 1);
  size_t count = static_cast<size_t>(I64(info, 2));
  auto state = Arr<uint8_t>(info, 3, napi_uint8_array, "Uint8Array");
  auto pfn = Arr<double>(info, 4, napi_float64_array, "Float64Array");
  if (state.ElementLength() < count || pfn.ElementLength() < count) {
    throw Napi::RangeError::New(env, "output arrays are too small");
  }
  thread_local std::vector<uint64_t> raw;
  if (raw.size() < count) raw.resize(count);
  size_t got;
  if (int e = PreadAll(fd, raw.data(), count * 8, (addr / 4096) * 8, got)) return Errno(env, e);
  size_t n = got / 8;
  uint8_t* st = state.Data();
  double* pf = pfn.Data();
  const uint64_t* r = raw.data();
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = r[i];
    uint8_t s = static_cast<uint8_t>(((v >> 63) & 1) * kPgPresent | ((v >> 62) & 1) * kPgSwapped |
                                     ((v >> 61) & 1) * kPgFile | ((v >> 56) & 1) * kPgExclusive |
                                     ((v >> 55) & 1) * kPgSoftDirty | ((v >> 57) & 1) * kPgUffdWp |
                                     ((v >> 58) & 1) * kPgGuard);
    uint64_t f = v & kPfnMask;
    double out = -1;
    if (s & (kPgPresent | kPgSwapped)) {
      if (f != 0) {
        out = static_cast<double>(f);
      } else if (s & kPgPresent) {
        s |= kPgPfnHidden;  // swap payloads may legitimately be 0 (guard/uffd markers)
      }
    }
    st[i] = s;
    pf[i] = out;
  }
  for (size_t i = n; i < count; ++i) {
    st[i] = 0;
    pf[i] = -1;
  }
  return OkNum(env, static_cast<double>(n));
}

// pagemapScan(fd, start, end, flags, inverted, mask, anyof, returnMask, maxPages,
//             out: BigUint64Array): one PAGEMAP_SCAN ioctl (do_pagemap_scan). out holds
// (start, end, categories) triples; its length/3 is vec_len. Value: { count, walkEnd }.
Napi::Value PagemapScan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(I64(info, 0));
  auto out = Arr<uint64_t>(info, 9, napi_biguint64_array, "BigUint64Array");
  pm_scan_arg a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.start = U64(info, 1);
  a.end = U64(info, 2);
  a.flags = U64(info, 3);
  a.category_inverted = U64(info, 4);
  a.category_mask = U64(info, 5);
  a.category_anyof_mask = U64(info, 6);
  a.return_mask = U64(info, 7);
  a.max_pages = U64(info, 8);
  a.vec = reinterpret_cast<uintptr_t>(out.Data());
  a.vec_len = out.ElementLength() / 3;
  int r;
  do {
    r = ioctl(fd, kPagemapScan, &a);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return Errno(env, errno);
  Napi::Object v = Napi::Object::New(env);
  v.Set("count", r);
  v.Set("walkEnd", Napi::BigInt::New(env, a.walk_end));
  return Ok(env, v);
}

// kpageRead(fd, pfns: Float64Array, out: BigUint64Array): one u64 per PFN from
// /proc/kpageflags or /proc/kpagecount (index = PFN). Runs of consecutive PFNs (a THP's
// 512 frames) are coalesced into one pread. Value: entries read.
Napi::Value KpageRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(I64(info, 0));
  auto pfns = Arr<double>(info, 1, napi_float64_array, "Float64Array");
  auto out = Arr<uint64_t>(info, 2, napi_biguint64_array, "BigUint64Array");
  size_t n = pfns.ElementLength();
  if (out.ElementLength() < n) throw Napi::RangeError::New(env, "out is too small");
  const double* p = pfns.Data();
  uint64_t* o = out.Data();
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && p[j] == p[j - 1] + 1) ++j;
    size_t got;
    uint64_t first = static_cast<uint64_t>(p[i]);
    if (int e = PreadAll(fd, o + i, (j - i) * 8, first * 8, got)) return Errno(env, e);
    if (got != (j - i) * 8) return Errno(env, EINVAL);  // PFN past max_pfn
    i = j;
  }
  return OkNum(env, static_cast<double>(n));
}

// readTagsAt(memFd, addrs: BigUint64Array, out: BigUint64Array, ok: Uint8Array): the 8 bytes
// at each address through /proc/PID/mem (mem_rw → access_remote_vm with FOLL_FORCE, so a
// present PROT_NONE page is readable too). Callers pass present pages only, so no fault
// ever populates memory. Value: how many reads succeeded.
Napi::Value ReadTagsAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(I64(info, 0));
  auto addrs = Arr<uint64_t>(info, 1, napi_biguint64_array, "BigUint64Array");
  auto out = Arr<uint64_t>(info, 2, napi_biguint64_array, "BigUint64Array");
  auto okv = Arr<uint8_t>(info, 3, napi_uint8_array, "Uint8Array");
  size_t n = addrs.ElementLength();
  if (out.ElementLength() < n || okv.ElementLength() < n) {
    throw Napi::RangeError::New(env, "output arrays are too small");
  }
  size_t good = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    ssize_t r;
    do {
      r = pread(fd, &v, 8, static_cast<off_t>(addrs.Data()[i]));
    } while (r < 0 && errno == EINTR);
    bool okRead = r == 8;
    out.Data()[i] = okRead ? v : 0;
    okv.Data()[i] = okRead ? 1 : 0;
    good += okRead;
  }
  return OkNum(env, static_cast<double>(good));
}

}  // namespace

void InitProcfs(Napi::Env env, Napi::Object exports) {
  exports.Set("mapsRead", Napi::Function::New(env, MapsRead, "mapsRead"));
  exports.Set("mapsParse", Napi::Function::New(env, MapsParse, "mapsParse"));
  exports.Set("readProcText", Napi::Function::New(env, ReadProcText, "readProcText"));
  exports.Set("procOpen", Napi::Function::New(env, ProcOpen, "procOpen"));
  exports.Set("procClose", Napi::Function::New(env, ProcClose, "procClose"));
  exports.Set("procmapQuery", Napi::Function::New(env, ProcmapQuery, "procmapQuery"));
  exports.Set("procmapQueryWindow",
              Napi::Function::New(env, ProcmapQueryWindow, "procmapQueryWindow"));
  exports.Set("pagemapRead", Napi::Function::New(env, PagemapRead, "pagemapRead"));
  exports.Set("pagemapDecode", Napi::Function::New(env, PagemapDecode, "pagemapDecode"));
  exports.Set("pagemapScan", Napi::Function::New(env, PagemapScan, "pagemapScan"));
  exports.Set("kpageRead", Napi::Function::New(env, KpageRead, "kpageRead"));
  exports.Set("readTagsAt", Napi::Function::New(env, ReadTagsAt, "readTagsAt"));
}

}  // namespace mrl
