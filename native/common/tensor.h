// Native tensor storage: a reference-counted buffer (Storage) seen through a shape (TensorImpl).
// Views such as reshape share one Storage; the live counters count handles and storage bytes.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mpf {

enum class DType : int { F32 = 0, F64 = 1 };
enum class Device : int { CPU = 0, CUDA = 1 };

inline size_t dtype_size(DType d) { return d == DType::F32 ? 4 : 8; }
inline const char* dtype_name(DType d) { return d == DType::F32 ? "float32" : "float64"; }
inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

// Largest tensor we agree to allocate. Anything beyond is almost surely a bug in the caller's
// shape arithmetic, and failing early with a RangeError beats an OOM kill.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 36;  // 64 GiB
constexpr int kMaxRank = 8;

// Process-wide live counters (all devices).
struct LiveCounters {
  std::atomic<int64_t> storages{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> cuda_bytes{0};
};
LiveCounters& live_counters();

// How a device allocates. The CPU allocator is built in; the CUDA plugin installs its own.
struct Allocator {
  void* (*alloc)(size_t bytes);
  void (*free)(void* p, size_t bytes);
};
const Allocator& cpu_allocator();
void set_device_allocator(Device dev, const Allocator* a);  // nullptr: device unavailable
const Allocator* device_allocator(Device dev);

struct Storage {
  void* data = nullptr;
  size_t bytes = 0;
  Device device = Device::CPU;
  Storage(Device dev, size_t nbytes);  // throws RangeError when the allocation fails
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  DType dtype = DType::F32;

  int64_t numel() const { return shape_numel(shape); }
  int64_t rank() const { return int64_t(shape.size()); }
  Device device() const { return storage->device; }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype); }
  template <typename T>
  T* data() const { return static_cast<T*>(storage->data); }
  float* f32() const { return static_cast<float*>(storage->data); }
  double* f64() const { return static_cast<double*>(storage->data); }
};
using TensorRef = std::shared_ptr<TensorImpl>;

// When on (MPFNET_POISON set, or set_poison_new_tensors), new CPU tensors start filled with NaN.
bool poison_new_tensors();
void set_poison_new_tensors(bool on);

// Allocate an uninitialised tensor (validates the shape and size first).
TensorRef new_tensor(Device dev, DType dt, const Shape& shape);
// A tensor with the same storage and a different shape (same numel required).
TensorRef view_tensor(const TensorRef& t, const Shape& shape);

}  // namespace mpf
