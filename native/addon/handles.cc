#include "addon/handles.h"

#include <mutex>
#include <unordered_map>

#include "common/errors.h"

namespace mpf {
namespace {

struct Table {
  std::mutex mu;
  std::unordered_map<HandleId, TensorRef> map;
  HandleId next = 1;
};
Table& table() {
  static Table* t = new Table();  // leaked: Node may finalise handles after static destruction
  return *t;
}

}  // namespace

HandleId handle_add(TensorRef t) {
  auto& tb = table();
  std::lock_guard<std::mutex> lk(tb.mu);
  if (tb.next == UINT32_MAX) throw_range("out of tensor handles");
  HandleId id = tb.next++;
  tb.map.emplace(id, std::move(t));
  return id;
}

TensorRef handle_get(HandleId id, const char* op, const char* arg) {
  auto& tb = table();
  std::lock_guard<std::mutex> lk(tb.mu);
  auto it = tb.map.find(id);
  if (it == tb.map.end()) {
    if (id == 0 || id >= tb.next) throw_type(op, ": '", arg, "' is not a tensor handle (got ", id, ")");
    throw_type(op, ": '", arg, "' was disposed (tensor handle ", id, ")");
  }
  return it->second;
}

bool handle_remove(HandleId id) {
  TensorRef dead;  // released outside the lock
  auto& tb = table();
  std::lock_guard<std::mutex> lk(tb.mu);
  auto it = tb.map.find(id);
  if (it == tb.map.end()) return false;
  dead = std::move(it->second);
  tb.map.erase(it);
  return true;
}

int64_t handle_count() {
  auto& tb = table();
  std::lock_guard<std::mutex> lk(tb.mu);
  return int64_t(tb.map.size());
}

Napi::Value handle_value(Napi::Env env, TensorRef t) { return Napi::Number::New(env, double(handle_add(std::move(t)))); }

}  // namespace mpf
