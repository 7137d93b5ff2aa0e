// Self-registration of binding functions. A binding file declares
//   MPF_BINDING(conv2dForward) { ... return value; }
// and the function appears on the addon's exports under that name. Every call goes through one
// trampoline that converts mpf::TypeError / RangeError / std::exception into the JS error of the
// same kind, so no C++ exception ever reaches Node as an abort.
#pragma once
#include <napi.h>

namespace mpf {

using BindingFn = Napi::Value (*)(const Napi::CallbackInfo&);

struct BindingRegistrar {
  BindingRegistrar(const char* name, BindingFn fn);
};

void export_bindings(Napi::Env env, Napi::Object exports);

}  // namespace mpf

#define MPF_BINDING(name)                                                \
  static Napi::Value mpf_binding_##name(const Napi::CallbackInfo& info); \
  static ::mpf::BindingRegistrar mpf_registrar_##name(#name, &mpf_binding_##name); \
  static Napi::Value mpf_binding_##name(const Napi::CallbackInfo& info)
