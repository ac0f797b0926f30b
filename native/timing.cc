#include "common.h"

namespace mrl {

void InitTiming(Napi::Env env, Napi::Object exports) {}

}  // namespace mrl
