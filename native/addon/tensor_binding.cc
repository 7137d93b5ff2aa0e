// Tensor lifetime and data movement: create, read, dispose, views, casts, random fills, counters.
#include <cstring>

#include "addon/args.h"
#include "addon/cuda_plugin.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "common/cpu_allocator.h"
#include "common/cpu_features.h"
#include "common/random.h"
#include "common/thread_pool.h"

namespace mpf {
namespace {

template <typename T, typename F>
void fill_parallel(T* p, int64_t n, F f) {
  parallel_for(n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] = T(f(i));
  });
}

}  // namespace

// create(device, dtype, shape, data?, uninitialized?) -> handle. data must be a Float32Array /
// Float64Array matching dtype with exactly numel elements; without data the tensor is zero-filled,
// or left as the allocator hands it over with uninitialized (no pass over memory).
MPF_BINDING(create) {
  Args a(info, "tensor");
  Device dev = a.device(0);
  DType dt = a.dtype(1);
  Shape shape = a.shape(2, "shape");
  require_device("tensor", dev);
  TensorRef t = new_tensor(dev, dt, shape);
  // uninitialized: the caller writes every element before anything reads one (empty()).
  if (!a.is_nullish(4) && a.boolean(4, "uninitialized")) {
    if (!a.is_nullish(3)) throw_type("tensor: 'data' and 'uninitialized' exclude each other");
    return handle_value(info.Env(), t);
  }
  if (a.is_nullish(3)) {
    if (dev == Device::CUDA) cuda_call("tensor", cuda_api("tensor").memset(dptr(t), 0, t->nbytes()));
    else std::memset(t->storage->data, 0, t->nbytes());
  } else {
    Napi::Value v = info[3];
    if (!v.IsTypedArray()) throw_type("tensor: 'data' must be a Float32Array or Float64Array");
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    napi_typedarray_type want = dt == DType::F32 ? napi_float32_array : napi_float64_array;
    if (ta.TypedArrayType() != want)
      throw_type("tensor: 'data' must be a ", dt == DType::F32 ? "Float32Array" : "Float64Array", " for dtype ", dtype_name(dt));
    if (int64_t(ta.ElementLength()) != t->numel())
      throw_range("tensor: 'data' has ", ta.ElementLength(), " elements but shape ", shape_str(shape), " needs ", t->numel());
    const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (dev == Device::CUDA) cuda_call("tensor", cuda_api("tensor").copy_h2d(dptr(t), src, t->nbytes()));
    else std::memcpy(t->storage->data, src, t->nbytes());
  }
  return handle_value(info.Env(), t);
}

// full(device, dtype, shape, value) -> handle
MPF_BINDING(full) {
  Args a(info, "full");
  Device dev = a.device(0);
  DType dt = a.dtype(1);
  Shape shape = a.shape(2, "shape");
  double v = a.number(3, "value");
  require_device("full", dev);
  TensorRef t = new_tensor(dev, dt, shape);
  if (dev == Device::CUDA) cuda_call("full", cuda_api("full").fill(cuda_dtype(dt), dptr(t), t->numel(), v));
  else if (dt == DType::F32) fill_parallel(t->f32(), t->numel(), [&](int64_t) { return v; });
  else fill_parallel(t->f64(), t->numel(), [&](int64_t) { return v; });
  return handle_value(info.Env(), t);
}

// randUniform(device, dtype, shape, seed, offset, low, high) -> handle
// randNormal(device, dtype, shape, seed, offset, mean, std) -> handle
// Element i draws counter offset + i, so the caller advances its generator by numel.
static Napi::Value random_fill(const Napi::CallbackInfo& info, bool normal) {
  const char* op = normal ? "randn" : "rand";
  Args a(info, op);
  Device dev = a.device(0);
  DType dt = a.dtype(1);
  Shape shape = a.shape(2, "shape");
  uint64_t seed = uint64_t(a.integer(3, "seed", 0, (int64_t(1) << 53) - 1));
  uint64_t offset = uint64_t(a.integer(4, "offset", 0, (int64_t(1) << 53) - 1));
  double p = a.number(5, normal ? "mean" : "low"), q = a.number(6, normal ? "std" : "high");
  require_device(op, dev);
  TensorRef t = new_tensor(dev, dt, shape);
  if (dev == Device::CUDA) {
    cuda_call(op, cuda_api(op).rand(cuda_dtype(dt), dptr(t), t->numel(), seed, offset, p, q, normal ? 1 : 0));
    return handle_value(info.Env(), t);
  }
  auto gen = [&](int64_t i) {
    return normal ? p + q * normal01(seed, offset + uint64_t(i)) : p + (q - p) * uniform01(seed, offset + uint64_t(i));
  };
  if (dt == DType::F32) fill_parallel(t->f32(), t->numel(), gen);
  else fill_parallel(t->f64(), t->numel(), gen);
  return handle_value(info.Env(), t);
}
MPF_BINDING(randUniform) { return random_fill(info, false); }
MPF_BINDING(randNormal) { return random_fill(info, true); }

// read(handle) -> Float32Array | Float64Array (a copy)
MPF_BINDING(read) {
  Args a(info, "read");
  TensorRef t = a.tensor(0, "tensor");
  Napi::Env env = info.Env();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, t->nbytes());
  if (t->device() == Device::CUDA) cuda_call("read", cuda_api("read").copy_d2h(buf.Data(), dptr(t), t->nbytes()));
  else std::memcpy(buf.Data(), t->storage->data, t->nbytes());
  if (t->dtype == DType::F32) return Napi::Float32Array::New(env, size_t(t->numel()), buf, 0);
  return Napi::Float64Array::New(env, size_t(t->numel()), buf, 0);
}

// dispose(handle) -> boolean (false when it was already disposed)
MPF_BINDING(dispose) {
  Args a(info, "dispose");
  int64_t id = a.integer(0, "tensor", 1, UINT32_MAX);
  return Napi::Boolean::New(info.Env(), handle_remove(HandleId(id)));
}

// view(handle, shape) -> a new handle sharing storage (reshape)
MPF_BINDING(view) {
  Args a(info, "reshape");
  TensorRef t = a.tensor(0, "tensor");
  Shape shape = a.shape(1, "shape");
  return handle_value(info.Env(), view_tensor(t, shape));
}

// copy(handle, dtype) -> a new tensor with its own storage, converted to dtype
MPF_BINDING(copy) {
  Args a(info, "copy");
  TensorRef t = a.tensor(0, "tensor");
  DType dt = a.dtype(1);
  TensorRef o = new_tensor(t->device(), dt, t->shape);
  const int64_t n = t->numel();
  if (t->device() == Device::CUDA) {
    const MpfCudaApi& api = cuda_api("copy");
    if (t->dtype == dt) cuda_call("copy", api.copy_d2d(dptr(o), dptr(t), t->nbytes()));
    else cuda_call("copy", api.cast(cuda_dtype(t->dtype), dptr(t), cuda_dtype(dt), dptr(o), n));
  } else if (t->dtype == dt) {
    std::memcpy(o->storage->data, t->storage->data, t->nbytes());
  } else if (dt == DType::F64) {
    const float* s = t->f32();
    fill_parallel(o->f64(), n, [&](int64_t i) { return double(s[i]); });
  } else {
    const double* s = t->f64();
    fill_parallel(o->f32(), n, [&](int64_t i) { return float(s[i]); });
  }
  return handle_value(info.Env(), o);
}

// info(handle) -> {shape, dtype, device}
MPF_BINDING(info) {
  Args a(info, "info");
  TensorRef t = a.tensor(0, "tensor");
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array s = Napi::Array::New(env, t->shape.size());
  for (size_t i = 0; i < t->shape.size(); ++i) s.Set(uint32_t(i), Napi::Number::New(env, double(t->shape[i])));
  o.Set("shape", s);
  o.Set("dtype", dtype_name(t->dtype));
  o.Set("device", device_name(t->device()));
  return o;
}

// memory() -> {tensors, bytes, storages, cudaBytes}
MPF_BINDING(memory) {
  Napi::Env env = info.Env();
  auto& c = live_counters();
  Napi::Object o = Napi::Object::New(env);
  o.Set("tensors", Napi::Number::New(env, double(handle_count())));
  o.Set("storages", Napi::Number::New(env, double(c.storages.load())));
  o.Set("bytes", Napi::Number::New(env, double(c.bytes.load())));
  o.Set("cudaBytes", Napi::Number::New(env, double(c.cuda_bytes.load())));
  o.Set("cachedBytes", Napi::Number::New(env, double(cpu_cache_bytes())));
  // The CUDA caching allocator's spare blocks, when the plugin is loaded (never loads it).
  MpfCudaMemory m{};
  const MpfCudaApi* api = cuda_api_if_loaded();
  if (api) cuda_call("memory", api->memory(&m));
  o.Set("cudaCachedBytes", Napi::Number::New(env, double(m.cached)));
  return o;
}

// emptyCache(): return the CPU allocator's cached blocks to the system (and the CUDA allocator's
// to the device, when the plugin is loaded).
MPF_BINDING(emptyCache) {
  cpu_cache_empty();
  if (const MpfCudaApi* api = cuda_api_if_loaded()) cuda_call("emptyCache", api->empty_cache());
  return info.Env().Undefined();
}

// numThreads() -> the CPU thread pool's size
MPF_BINDING(numThreads) { return Napi::Number::New(info.Env(), num_threads()); }

// setNumThreads(threads): resize the CPU thread pool (1..1024)
MPF_BINDING(setNumThreads) {
  Args a(info, "setNumThreads");
  set_num_threads(int(a.integer(0, "threads", 1, 1024)));
  return info.Env().Undefined();
}

// setThreadSerial(on): parallel regions started from this JS thread run on it alone (data workers)
MPF_BINDING(setThreadSerial) {
  Args a(info, "setThreadSerial");
  set_thread_serial(a.boolean(0, "on"));
  return info.Env().Undefined();
}

// simd() -> 'scalar' | 'avx2' | 'avx512', the kernels' SIMD level
MPF_BINDING(simd) { return Napi::String::New(info.Env(), simd_name(simd_level())); }

// setSimd("scalar" | "avx2" | "avx512" | "neon"): cap the vector level (tests cover every path this way)
MPF_BINDING(setSimd) {
  Args a(info, "setSimd");
  std::string s = a.string(0, "level");
  Simd lv;
  if (s == "scalar") lv = Simd::Scalar;
  else if (s == "avx2") lv = Simd::AVX2;
  else if (s == "avx512") lv = Simd::AVX512;
  else if (s == "neon") lv = Simd::Neon;
  else throw_type("setSimd: 'level' must be scalar, avx2, avx512 or neon, got ", s);
  set_simd_level(lv);
  return Napi::String::New(info.Env(), simd_name(simd_level()));
}

}  // namespace mpf

namespace mpf {
// setPoison(on): new CPU tensors start as NaN (tests use it to catch unwritten outputs).
MPF_BINDING(setPoison) {
  Args a(info, "setPoison");
  set_poison_new_tensors(a.boolean(0, "on"));
  return info.Env().Undefined();
}
}  // namespace mpf

namespace mpf {
// toDevice(handle, device) -> a copy of the tensor on `device`.
MPF_BINDING(toDevice) {
  Args a(info, "to");
  TensorRef t = a.tensor(0, "tensor");
  Device dev = a.device(1);
  require_device("to", dev);
  TensorRef o = new_tensor(dev, t->dtype, t->shape);
  const Device from = t->device();
  if (from == Device::CPU && dev == Device::CPU) std::memcpy(o->storage->data, t->storage->data, t->nbytes());
  else if (from == Device::CPU) cuda_call("to", cuda_api("to").copy_h2d(dptr(o), dptr(t), t->nbytes()));
  else if (dev == Device::CPU) cuda_call("to", cuda_api("to").copy_d2h(dptr(o), dptr(t), t->nbytes()));
  else cuda_call("to", cuda_api("to").copy_d2d(dptr(o), dptr(t), t->nbytes()));
  return handle_value(info.Env(), o);
}
}  // namespace mpf
