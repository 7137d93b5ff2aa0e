#include "addon/registry.h"

#include <new>
#include <string>
#include <utility>
#include <vector>

#include "common/errors.h"

namespace mpf {
namespace {

std::vector<std::pair<const char*, BindingFn>>& table() {
  static std::vector<std::pair<const char*, BindingFn>> t;
  return t;
}

Napi::Value trampoline(const Napi::CallbackInfo& info) {
  auto fn = reinterpret_cast<BindingFn>(info.Data());
  Napi::Env env = info.Env();
  try {
    return fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const TypeError& e) {
    throw Napi::TypeError::New(env, e.what());
  } catch (const RangeError& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace

BindingRegistrar::BindingRegistrar(const char* name, BindingFn fn) { table().emplace_back(name, fn); }

void export_bindings(Napi::Env env, Napi::Object exports) {
  for (auto& [name, fn] : table())
    exports.Set(name, Napi::Function::New(env, trampoline, name, reinterpret_cast<void*>(fn)));
}

}  // namespace mpf
