// Entry point of the thespis addon: each job lives in its own file and
// registers its functions here. abiVersion changes whenever the JS-visible
// surface does, so src/native.ts can tell a stale build from a current one.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 5));
  thespis::InitFraming(env, exports);
  thespis::InitFdPass(env, exports);
  thespis::InitFdWatch(env, exports);
  thespis::InitFork(env, exports);
  thespis::InitReap(env, exports);
  return exports;
}

NODE_API_MODULE(thespis, Init)
