// Reading and validating binding arguments. Every failure throws mpf::TypeError / RangeError with
// the op, the argument's name and the offending value, before any kernel touches memory.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "common/errors.h"
#include "common/tensor.h"

namespace mpf {

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}

  const char* op() const { return op_; }
  Napi::Env env() const { return info_.Env(); }
  size_t length() const { return info_.Length(); }
  bool is_nullish(size_t i) const { return i >= info_.Length() || info_[i].IsNull() || info_[i].IsUndefined(); }

  Device device(size_t i) const;
  DType dtype(size_t i) const;
  TensorRef tensor(size_t i, const char* name) const;
  TensorRef opt_tensor(size_t i, const char* name) const;  // null / undefined -> nullptr
  std::vector<TensorRef> tensors(size_t i, const char* name) const;  // non-empty array of handles
  int64_t integer(size_t i, const char* name, int64_t lo, int64_t hi) const;
  double number(size_t i, const char* name) const;  // finite
  double number_in(size_t i, const char* name, double lo, double hi) const;
  bool boolean(size_t i, const char* name) const;
  std::string string(size_t i, const char* name) const;
  // Array of integers; count 0 accepts any length.
  std::vector<int64_t> ints(size_t i, const char* name, size_t count, int64_t lo, int64_t hi) const;
  Shape shape(size_t i, const char* name) const;  // every dim >= 1

 private:
  Napi::Value at(size_t i, const char* name) const;
  const Napi::CallbackInfo& info_;
  const char* op_;
};

// Checks shared by the ops. `what` names the argument in the message.
void check_device(const char* op, const char* what, const TensorRef& t, Device dev);
void check_dtype(const char* op, const char* what, const TensorRef& t, DType dt);
void check_rank(const char* op, const char* what, const TensorRef& t, int rank, const char* layout);
void check_same_shape(const char* op, const char* what_a, const TensorRef& a, const char* what_b, const TensorRef& b);
// All tensors on `dev` with the dtype of the first one.
void check_uniform(const char* op, Device dev, std::initializer_list<std::pair<const char*, const TensorRef*>> ts);

}  // namespace mpf
