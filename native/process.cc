#include "common.h"

namespace mrl {

void InitProcess(Napi::Env env, Napi::Object exports) {}

}  // namespace mrl
