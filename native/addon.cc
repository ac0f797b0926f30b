// Entry point: each concern lives in its own file and registers its functions here.
#include "common.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mrl::InitSyscalls(env, exports);
  mrl::InitMemory(env, exports);
  mrl::InitProcess(env, exports);
  mrl::InitProcfs(env, exports);
  mrl::InitTiming(env, exports);
  mrl::InitHoles(env, exports);
  mrl::InitLoad(env, exports);
  mrl::InitUffdEvents(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(mremap_lab, Init)
