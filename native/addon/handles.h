// Integer handles for native tensors (tfjs-node style): JS objects hold a number, the table holds
// the TensorImpl. Ids are never reused, so a disposed handle is always recognised as such.
#pragma once
#include <napi.h>

#include <cstdint>

#include "common/tensor.h"

namespace mpf {

using HandleId = uint32_t;

HandleId handle_add(TensorRef t);
// Throws TypeError naming `op` and `arg` when the id is unknown or was disposed.
TensorRef handle_get(HandleId id, const char* op, const char* arg);
bool handle_remove(HandleId id);  // false when already gone
int64_t handle_count();

// Register a tensor and return its handle as a JS number.
Napi::Value handle_value(Napi::Env env, TensorRef t);

}  // namespace mpf
