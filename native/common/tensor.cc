#include "common/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "common/cpu_allocator.h"
#include "common/errors.h"

namespace mpf {

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

LiveCounters& live_counters() {
  static LiveCounters c;
  return c;
}

static bool g_poison = std::getenv("MPFNET_POISON") != nullptr;
bool poison_new_tensors() { return g_poison; }
void set_poison_new_tensors(bool on) { g_poison = on; }

const Allocator& cpu_allocator() {
  static const Allocator a{cpu_cached_alloc, cpu_cached_free};
  return a;
}

static const Allocator* g_cuda_allocator = nullptr;
void set_device_allocator(Device dev, const Allocator* a) {
  if (dev == Device::CUDA) g_cuda_allocator = a;
}
const Allocator* device_allocator(Device dev) {
  return dev == Device::CPU ? &cpu_allocator() : g_cuda_allocator;
}

Storage::Storage(Device dev, size_t nbytes) : bytes(nbytes), device(dev) {
  const Allocator* a = device_allocator(dev);
  if (!a) throw_type("device '", device_name(dev), "' is not available");
  try {
    data = a->alloc(nbytes);
  } catch (const std::bad_alloc&) {
    throw_range("cannot allocate ", nbytes, " bytes on ", device_name(dev), " (out of memory)");
  }
  auto& c = live_counters();
  c.storages++;
  (dev == Device::CPU ? c.bytes : c.cuda_bytes) += int64_t(nbytes);
}

Storage::~Storage() {
  const Allocator* a = device_allocator(device);
  if (a && data) a->free(data, bytes);
  auto& c = live_counters();
  c.storages--;
  (device == Device::CPU ? c.bytes : c.cuda_bytes) -= int64_t(bytes);
}

TensorRef new_tensor(Device dev, DType dt, const Shape& shape) {
  if (int64_t(shape.size()) > kMaxRank) throw_range("rank ", shape.size(), " exceeds the maximum of ", kMaxRank);
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw_range("shape ", shape_str(shape), " has a dimension <= 0; tensors must not be empty");
    if (n > kMaxTensorBytes / d) throw_range("shape ", shape_str(shape), " is too large");
    n *= d;
  }
  const int64_t bytes = n * int64_t(dtype_size(dt));
  if (bytes > kMaxTensorBytes) throw_range("shape ", shape_str(shape), " needs ", bytes, " bytes, over the limit of ", kMaxTensorBytes);
  auto t = std::make_shared<TensorImpl>();
  t->storage = std::make_shared<Storage>(dev, size_t(bytes));
  // Poison mode (tests): fresh memory reads as NaN, so an output element a kernel forgot to
  // write shows up instead of passing by luck. All-ones bytes are a NaN in float32 and float64.
  if (poison_new_tensors() && dev == Device::CPU) std::memset(t->storage->data, 0xFF, size_t(bytes));
  t->shape = shape;
  t->dtype = dt;
  return t;
}

TensorRef view_tensor(const TensorRef& t, const Shape& shape) {
  if (shape_numel(shape) != t->numel())
    throw_range("cannot view a tensor of shape ", shape_str(t->shape), " as ", shape_str(shape));
  auto v = std::make_shared<TensorImpl>(*t);
  v->shape = shape;
  return v;
}

}  // namespace mpf
