// Helpers shared by the native files: result objects and bigint/number conversion.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstdint>

namespace mrl {

// { ok: true, value } — any value; OkBig/OkNum for a bigint address/length or a number.
inline Napi::Object Ok(Napi::Env env, Napi::Value v) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", true);
  o.Set("value", v);
  return o;
}

inline Napi::Object OkBig(Napi::Env env, uint64_t v) { return Ok(env, Napi::BigInt::New(env, v)); }

inline Napi::Object OkNum(Napi::Env env, double v) { return Ok(env, Napi::Number::New(env, v)); }

// { ok: false, errno } — TypeScript adds the symbolic name; the kernel's answer is data.
inline Napi::Object Errno(Napi::Env env, int err) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", false);
  o.Set("errno", err);
  return o;
}

// Syscall return convention: -1 with errno set, else the value.
inline Napi::Object FromSyscall(Napi::Env env, long ret, int err, bool big) {
  if (ret == -1) return Errno(env, err);
  return big ? OkBig(env, static_cast<uint64_t>(ret)) : OkNum(env, static_cast<double>(ret));
}

// Arguments are validated in TypeScript; these only convert and throw on programmer errors.
inline uint64_t U64(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsBigInt()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a bigint");
  }
  bool lossless = true;
  return info[i].As<Napi::BigInt>().Uint64Value(&lossless);
}

inline int64_t I64(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  }
  return info[i].As<Napi::Number>().Int64Value();
}

// Each native file registers its functions through one of these.
void InitSyscalls(Napi::Env env, Napi::Object exports);
void InitMemory(Napi::Env env, Napi::Object exports);
void InitProcess(Napi::Env env, Napi::Object exports);
void InitProcfs(Napi::Env env, Napi::Object exports);
void InitTiming(Napi::Env env, Napi::Object exports);
void InitHoles(Napi::Env env, Napi::Object exports);
void InitLoad(Napi::Env env, Napi::Object exports);
void InitUffdEvents(Napi::Env env, Napi::Object exports);
// Starts the thread that reads (and drops) a userfaultfd's events (native/uffd_events.cc).
bool StartUffdEventReader(int fd);

}  // namespace mrl
