#include "common.h"

namespace mrl {

void InitMemory(Napi::Env env, Napi::Object exports) {}

}  // namespace mrl
