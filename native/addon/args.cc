#include "addon/args.h"

#include <cmath>

#include "addon/handles.h"

namespace mpf {

Napi::Value Args::at(size_t i, const char* name) const {
  if (i >= info_.Length()) throw_type(op_, ": missing argument '", name, "'");
  return info_[i];
}

Device Args::device(size_t i) const {
  Napi::Value v = at(i, "device");
  if (!v.IsString()) throw_type(op_, ": 'device' must be \"cpu\" or \"cuda\"");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "cpu") return Device::CPU;
  if (s == "cuda") return Device::CUDA;
  throw_type(op_, ": 'device' must be \"cpu\" or \"cuda\", got \"", s, "\"");
}

DType Args::dtype(size_t i) const {
  Napi::Value v = at(i, "dtype");
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string("(not a string)");
  if (s == "float32") return DType::F32;
  if (s == "float64") return DType::F64;
  throw_type(op_, ": 'dtype' must be \"float32\" or \"float64\", got ", s);
}

TensorRef Args::tensor(size_t i, const char* name) const {
  Napi::Value v = at(i, name);
  if (!v.IsNumber()) throw_type(op_, ": '", name, "' must be a tensor handle");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d < 4294967296.0) || d != std::floor(d)) throw_type(op_, ": '", name, "' is not a tensor handle (got ", d, ")");
  return handle_get(HandleId(d), op_, name);
}

TensorRef Args::opt_tensor(size_t i, const char* name) const {
  if (is_nullish(i)) return nullptr;
  return tensor(i, name);
}

std::vector<TensorRef> Args::tensors(size_t i, const char* name) const {
  Napi::Value v = at(i, name);
  if (!v.IsArray()) throw_type(op_, ": '", name, "' must be an array of tensor handles");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() == 0) throw_range(op_, ": '", name, "' must not be empty");
  std::vector<TensorRef> out;
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value e = a.Get(k);
    std::string nm = str(name, "[", k, "]");
    if (!e.IsNumber()) throw_type(op_, ": '", nm, "' must be a tensor handle");
    double d = e.As<Napi::Number>().DoubleValue();
    if (!(d >= 1 && d < 4294967296.0) || d != std::floor(d)) throw_type(op_, ": '", nm, "' is not a tensor handle (got ", d, ")");
    out.push_back(handle_get(HandleId(d), op_, nm.c_str()));
  }
  return out;
}

int64_t Args::integer(size_t i, const char* name, int64_t lo, int64_t hi) const {
  Napi::Value v = at(i, name);
  if (!v.IsNumber()) throw_type(op_, ": '", name, "' must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != std::floor(d) || !std::isfinite(d)) throw_type(op_, ": '", name, "' must be an integer, got ", d);
  if (d < double(lo) || d > double(hi)) throw_range(op_, ": '", name, "' must be in [", lo, ", ", hi, "], got ", d);
  return int64_t(d);
}

double Args::number(size_t i, const char* name) const {
  Napi::Value v = at(i, name);
  if (!v.IsNumber()) throw_type(op_, ": '", name, "' must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw_range(op_, ": '", name, "' must be finite, got ", d);
  return d;
}

double Args::number_in(size_t i, const char* name, double lo, double hi) const {
  double d = number(i, name);
  if (d < lo || d > hi) throw_range(op_, ": '", name, "' must be in [", lo, ", ", hi, "], got ", d);
  return d;
}

bool Args::boolean(size_t i, const char* name) const {
  Napi::Value v = at(i, name);
  if (!v.IsBoolean()) throw_type(op_, ": '", name, "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string Args::string(size_t i, const char* name) const {
  Napi::Value v = at(i, name);
  if (!v.IsString()) throw_type(op_, ": '", name, "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<int64_t> Args::ints(size_t i, const char* name, size_t count, int64_t lo, int64_t hi) const {
  Napi::Value v = at(i, name);
  if (!v.IsArray()) throw_type(op_, ": '", name, "' must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  if (count && a.Length() != count) throw_range(op_, ": '", name, "' must have ", count, " entries, got ", a.Length());
  std::vector<int64_t> out;
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value e = a.Get(k);
    if (!e.IsNumber()) throw_type(op_, ": '", name, "[", k, "]' must be an integer");
    double d = e.As<Napi::Number>().DoubleValue();
    if (d != std::floor(d) || !std::isfinite(d)) throw_type(op_, ": '", name, "[", k, "]' must be an integer, got ", d);
    if (d < double(lo) || d > double(hi)) throw_range(op_, ": '", name, "[", k, "]' must be in [", lo, ", ", hi, "], got ", d);
    out.push_back(int64_t(d));
  }
  return out;
}

Shape Args::shape(size_t i, const char* name) const {
  Shape s = ints(i, name, 0, 1, kMaxTensorBytes);
  if (s.empty()) throw_range(op_, ": '", name, "' must have at least one dimension (there are no 0-d tensors)");
  if (int64_t(s.size()) > kMaxRank) throw_range(op_, ": '", name, "' has rank ", s.size(), ", more than ", kMaxRank);
  // Checked here, not only when allocating: a view (reshape) allocates nothing, and an element count
  // that wraps int64 could otherwise match the viewed tensor's.
  int64_t n = 1;
  for (int64_t d : s) {
    if (n > kMaxTensorBytes / d)
      throw_range(op_, ": '", name, "' ", shape_str(s), " has more than ", kMaxTensorBytes, " elements");
    n *= d;
  }
  return s;
}

void check_device(const char* op, const char* what, const TensorRef& t, Device dev) {
  if (t->device() != dev)
    throw_type(op, ": '", what, "' is on ", device_name(t->device()), " but the op runs on ", device_name(dev),
               "; move it with .to('", device_name(dev), "')");
}

void check_dtype(const char* op, const char* what, const TensorRef& t, DType dt) {
  if (t->dtype != dt) throw_type(op, ": '", what, "' is ", dtype_name(t->dtype), " but ", dtype_name(dt), " is expected");
}

void check_rank(const char* op, const char* what, const TensorRef& t, int rank, const char* layout) {
  if (t->rank() != rank)
    throw_range(op, ": '", what, "' must be ", rank, "-D ", layout, ", got shape ", shape_str(t->shape));
}

void check_same_shape(const char* op, const char* what_a, const TensorRef& a, const char* what_b, const TensorRef& b) {
  if (a->shape != b->shape)
    throw_range(op, ": '", what_a, "' ", shape_str(a->shape), " and '", what_b, "' ", shape_str(b->shape), " must have the same shape");
}

void check_uniform(const char* op, Device dev, std::initializer_list<std::pair<const char*, const TensorRef*>> ts) {
  const TensorRef* first = nullptr;
  for (auto& [name, t] : ts) {
    if (!t || !*t) continue;
    check_device(op, name, *t, dev);
    if (!first) first = t;
    else check_dtype(op, name, *t, (*first)->dtype);
  }
}

}  // namespace mpf
