#include "common.h"

namespace mrl {

void InitProcfs(Napi::Env env, Napi::Object exports) {}

}  // namespace mrl
