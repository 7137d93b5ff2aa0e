// Bindings of the CUDA backend's own controls (the plugin itself: cuda_plugin.cc, native/cuda):
// availability with the reason, synchronisation, allocator statistics and options.
#include "addon/args.h"
#include "addon/cuda_plugin.h"
#include "addon/device.h"
#include "addon/registry.h"

namespace mpf {
namespace {

// cudaDriverGetVersion style (1000·major + 10·minor) -> "13.0"
std::string cuda_version(int v) { return str(v / 1000, ".", (v % 1000) / 10); }

// cudnnGetVersion(): 9.x encodes 10000·major + 100·minor + patch, 8.x 1000·major + 100·minor + patch.
std::string cudnn_version(int v) {
  if (v >= 90000) return str(v / 10000, ".", (v % 10000) / 100, ".", v % 100);
  return str(v / 1000, ".", (v % 1000) / 100, ".", v % 100);
}

}  // namespace

// cudaAvailable() -> {available, reason, plugin, device?, computeCapability?, memory?, driver?,
// runtime?, cudnn?, cudnnNote?}. The first call loads the plugin. cudnnNote says why cuDNN is not in use.
MPF_BINDING(cudaAvailable) {
  Napi::Env env = info.Env();
  const CudaStatus& s = cuda_status();
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", s.available);
  o.Set("reason", s.available ? Napi::Value(env.Null()) : Napi::String::New(env, s.reason));
  o.Set("plugin", s.plugin);
  if (s.available) {
    o.Set("device", s.info.device);
    o.Set("computeCapability", str(s.info.cc_major, ".", s.info.cc_minor));
    o.Set("memory", Napi::Number::New(env, double(s.info.total_memory)));
    o.Set("driver", cuda_version(s.info.driver_version));
    o.Set("runtime", cuda_version(s.info.runtime_version));
    o.Set("cudnn", s.info.cudnn_version ? Napi::Value(Napi::String::New(env, cudnn_version(s.info.cudnn_version)))
                                        : Napi::Value(env.Null()));
    o.Set("cudnnNote", s.info.cudnn_note[0] ? Napi::Value(Napi::String::New(env, s.info.cudnn_note)) : Napi::Value(env.Null()));
  }
  return o;
}

// cudaSynchronize(): wait for every queued kernel (timings; errors of asynchronous work surface here).
MPF_BINDING(cudaSynchronize) {
  cuda_call("cudaSynchronize", cuda_api("cudaSynchronize").synchronize());
  return info.Env().Undefined();
}

// cudaMemory() -> {allocated, cached, deviceFree, deviceTotal, mallocs}: the caching allocator's
// bytes in tensors and in spare blocks, and the device's own view.
MPF_BINDING(cudaMemory) {
  Napi::Env env = info.Env();
  MpfCudaMemory m{};
  cuda_call("cudaMemory", cuda_api("cudaMemory").memory(&m));
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocated", Napi::Number::New(env, double(m.allocated)));
  o.Set("cached", Napi::Number::New(env, double(m.cached)));
  o.Set("deviceFree", Napi::Number::New(env, double(m.device_free)));
  o.Set("deviceTotal", Napi::Number::New(env, double(m.device_total)));
  o.Set("mallocs", Napi::Number::New(env, double(m.mallocs)));
  return o;
}

// cudaOptions(changes | undefined) -> {allowTf32, convEngine: 'auto' | 'own', syncEach, engine}:
// applies the given fields, returns the options in force and the convolution engine's last use.
MPF_BINDING(cudaOptions) {
  Args a(info, "cudaOptions");
  const MpfCudaApi& api = cuda_api("cudaOptions");
  MpfCudaOptions o{};
  cuda_call("cudaOptions", api.get_options(&o));
  if (!a.is_nullish(0)) {
    if (!info[0].IsObject()) throw_type("cudaOptions: 'options' must be an object");
    Napi::Object c = info[0].As<Napi::Object>();
    auto flag = [&](const char* key, int32_t& field) {
      if (!c.Has(key) || c.Get(key).IsUndefined()) return;
      if (!c.Get(key).IsBoolean()) throw_type("cudaOptions: '", key, "' must be a boolean");
      field = c.Get(key).As<Napi::Boolean>().Value() ? 1 : 0;
    };
    flag("allowTf32", o.allow_tf32);
    flag("syncEach", o.sync_each);
    if (c.Has("convEngine") && !c.Get("convEngine").IsUndefined()) {
      const std::string e = c.Get("convEngine").IsString() ? c.Get("convEngine").As<Napi::String>().Utf8Value() : "";
      if (e == "auto") o.conv_engine = 0;
      else if (e == "own") o.conv_engine = 1;
      else throw_type("cudaOptions: 'convEngine' must be \"auto\" or \"own\", got '", e, "'");
    }
    cuda_call("cudaOptions", api.set_options(&o));
  }
  Napi::Env env = info.Env();
  Napi::Object r = Napi::Object::New(env);
  r.Set("allowTf32", o.allow_tf32 != 0);
  r.Set("convEngine", o.conv_engine == 1 ? "own" : "auto");
  r.Set("syncEach", o.sync_each != 0);
  r.Set("engine", api.conv2d_engine());
  return r;
}

// CUDA graphs (native/cuda/graph.cu; lib/cuda.ts's CudaGraph is the safe wrapper).
// cudaGraphBegin(): from now on the CUDA work of every op is recorded, not run.
MPF_BINDING(cudaGraphBegin) {
  cuda_call("cudaGraphBegin", cuda_api("cudaGraphBegin").graph_begin());
  return info.Env().Undefined();
}

// cudaGraphEnd() -> id: stops recording and makes the graph; throws with the reason when the
// capture failed (the recorded work is then discarded).
MPF_BINDING(cudaGraphEnd) {
  int64_t id = 0;
  cuda_call("cudaGraphEnd", cuda_api("cudaGraphEnd").graph_end(&id));
  return Napi::Number::New(info.Env(), double(id));
}

// cudaGraphLaunch(id, dst | null, src | null): copies src into dst (the graph's input: same shape
// and dtype, both on CUDA), then replays the graph after it on the stream.
MPF_BINDING(cudaGraphLaunch) {
  Args a(info, "cudaGraphLaunch");
  const int64_t id = a.integer(0, "id", 1, int64_t(1) << 52);
  TensorRef dst = a.opt_tensor(1, "dst"), src = a.opt_tensor(2, "src");
  if (bool(dst) != bool(src)) throw_type("cudaGraphLaunch: 'dst' and 'src' must both be tensors or both be null");
  const MpfCudaApi& api = cuda_api("cudaGraphLaunch");
  if (dst) {
    check_device("cudaGraphLaunch", "dst", dst, Device::CUDA);
    check_device("cudaGraphLaunch", "src", src, Device::CUDA);
    check_dtype("cudaGraphLaunch", "src", src, dst->dtype);
    check_same_shape("cudaGraphLaunch", "dst", dst, "src", src);
    cuda_call("cudaGraphLaunch", api.copy_d2d(dptr(dst), dptr(src), dst->nbytes()));
  }
  cuda_call("cudaGraphLaunch", api.graph_launch(id));
  return info.Env().Undefined();
}

// cudaGraphDestroy(id): frees the graph and hands its reserved memory back to the cache.
MPF_BINDING(cudaGraphDestroy) {
  Args a(info, "cudaGraphDestroy");
  cuda_call("cudaGraphDestroy", cuda_api("cudaGraphDestroy").graph_destroy(a.integer(0, "id", 1, int64_t(1) << 52)));
  return info.Env().Undefined();
}

}  // namespace mpf
