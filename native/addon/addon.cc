// Module entry point: exports every MPF_BINDING registered by the binding files in this folder.
#include <napi.h>

#include "addon/registry.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mpf::export_bindings(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

NODE_API_MODULE(mpfnet, Init)
