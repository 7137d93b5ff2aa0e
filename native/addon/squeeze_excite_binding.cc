// Bindings of fused squeeze-and-excitation (kernels: cpu/squeeze_excite.cc, cuda/squeeze_excite.cu).
#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/squeeze_excite.h"

namespace mpf {
namespace {

template <typename T>
T* ptr(const TensorRef& t) {
  return t ? t->data<T>() : nullptr;
}

// The CUDA kernel keeps one image's MLP activations in shared memory (cuda/squeeze_excite.cu).
constexpr int64_t kCudaMaxWidth = 1024;

// w1 (hidden, C), b1 (hidden) | null, w2 (C, hidden), b2 (C) | null for C channels of 'input'
// (x or the means); dtypes and devices checked by the caller. Returns hidden.
int64_t check_se_weights(const char* op, const char* input, const TensorRef& in, int64_t c, const TensorRef& w1,
                         const TensorRef& b1, const TensorRef& w2, const TensorRef& b2) {
  check_rank(op, "w1", w1, 2, "(hidden, C)");
  check_rank(op, "w2", w2, 2, "(C, hidden)");
  const int64_t hidden = w1->shape[0];
  if (w1->shape[1] != c) throw_range(op, ": 'w1' ", shape_str(w1->shape), " must be (hidden, ", c, ") for '", input, "' ", shape_str(in->shape));
  if (w2->shape != Shape{c, hidden})
    throw_range(op, ": 'w2' must have shape [", c, ", ", hidden, "], got ", shape_str(w2->shape));
  if (b1 && b1->shape != Shape{hidden}) throw_range(op, ": 'b1' must have shape [", hidden, "], got ", shape_str(b1->shape));
  if (b2 && b2->shape != Shape{c}) throw_range(op, ": 'b2' must have shape [", c, "], got ", shape_str(b2->shape));
  return hidden;
}

// x (N, C, H, W), w1 (hidden, C), b1 (hidden) | null, w2 (C, hidden), b2 (C) | null.
cpu::SqueezeExcite check_se(const char* op, Device dev, const TensorRef& x, const TensorRef& w1, const TensorRef& b1,
                            const TensorRef& w2, const TensorRef& b2) {
  check_uniform(op, dev, {{"x", &x}, {"w1", &w1}, {"b1", &b1}, {"w2", &w2}, {"b2", &b2}});
  check_rank(op, "x", x, 4, "(N, C, H, W)");
  const int64_t c = x->shape[1], hidden = check_se_weights(op, "x", x, c, w1, b1, w2, b2);
  if (x->shape[2] * x->shape[3] == 0) throw_range(op, ": 'x' ", shape_str(x->shape), " has no pixels to average");
  if (dev == Device::CUDA && (c > kCudaMaxWidth || hidden > kCudaMaxWidth))
    throw_range(op, ": on CUDA at most ", kCudaMaxWidth, " channels and hidden units, got ", c, " and ", hidden);
  return cpu::SqueezeExcite{x->shape[0], c, hidden, x->shape[2] * x->shape[3]};
}

MpfSqueezeExcite cuda_se(const cpu::SqueezeExcite& s, const TensorRef& w1, const TensorRef& b1, const TensorRef& w2,
                         const TensorRef& b2) {
  return MpfSqueezeExcite{s.n, s.c, s.hidden, s.hw, dptr(w1), dptr(b1), dptr(w2), dptr(b2)};
}

}  // namespace

// squeezeExciteForward(device, x, w1, b1 | null, w2, b2 | null, m?, inPlace?) -> {y, m}; m (N, C) is the
// spatial mean the backward reads. Given m (conv2dForwardMeans made it with x), the pooling pass is
// skipped and the result's m is null (the caller keeps its own). inPlace: x is scaled in place (one
// memory stream fewer, no new map; inference) and y is null.
MPF_BINDING(squeezeExciteForward) {
  Args a(info, "squeezeExcite");
  Device dev = a.device(0);
  const bool in_place = !a.is_nullish(7) && a.boolean(7, "inPlace");
  // The CUDA kernel declares x and y __restrict__.
  if (in_place && dev == Device::CUDA) throw_type("squeezeExcite: 'inPlace' is for CPU tensors only");
  TensorRef x = a.tensor(1, "x"), w1 = a.tensor(2, "w1"), b1 = a.opt_tensor(3, "b1"), w2 = a.tensor(4, "w2"),
            b2 = a.opt_tensor(5, "b2"), given = a.opt_tensor(6, "means");
  const cpu::SqueezeExcite s = check_se("squeezeExcite", dev, x, w1, b1, w2, b2);
  if (given) {
    check_uniform("squeezeExcite", dev, {{"x", &x}, {"means", &given}});
    if (given->shape != Shape{s.n, s.c}) throw_range("squeezeExcite: 'means' must have shape [", s.n, ", ", s.c, "], got ", shape_str(given->shape));
  }
  require_device("squeezeExcite", dev);
  TensorRef m = given ? given : new_tensor(dev, x->dtype, {s.n, s.c});
  // Scaling in place is safe: each output element is its own input times its channel's scale.
  TensorRef y = in_place ? x : new_tensor(dev, x->dtype, x->shape);
  if (dev == Device::CUDA) {
    const MpfSqueezeExcite cs = cuda_se(s, w1, b1, w2, b2);
    const MpfCudaApi& api = cuda_api("squeezeExcite");
    if (!given) cuda_call("squeezeExcite", api.se_pool(cuda_dtype(x->dtype), dptr(x), dptr(m), s.n, s.c, s.hw));
    cuda_call("squeezeExcite", api.se_excite(cuda_dtype(x->dtype), &cs, dptr(x), dptr(m), dptr(y)));
  } else if (x->dtype == DType::F32) {
    if (!given) cpu::se_pool(x->f32(), m->f32(), s.n, s.c, s.hw);
    cpu::se_excite(s, w1->f32(), ptr<float>(b1), w2->f32(), ptr<float>(b2), x->f32(), m->f32(), y->f32());
  } else {
    if (!given) cpu::se_pool(x->f64(), m->f64(), s.n, s.c, s.hw);
    cpu::se_excite(s, w1->f64(), ptr<double>(b1), w2->f64(), ptr<double>(b2), x->f64(), m->f64(), y->f64());
  }
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("y", in_place ? env.Null() : handle_value(env, y));
  o.Set("m", given ? env.Null() : handle_value(env, m));
  return o;
}

// squeezeExciteScales(device, m, w1, b1 | null, w2, b2 | null) -> s (N, C) = sigmoid(fc2(relu(fc1(m)))) for
// the spatial means m (N, C): the scales alone (CPU), for inference to fold into what reads the map.
MPF_BINDING(squeezeExciteScales) {
  Args a(info, "squeezeExciteScales");
  Device dev = a.device(0);
  if (dev != Device::CPU) throw_type("squeezeExciteScales: for CPU tensors only");
  TensorRef m = a.tensor(1, "means"), w1 = a.tensor(2, "w1"), b1 = a.opt_tensor(3, "b1"), w2 = a.tensor(4, "w2"),
            b2 = a.opt_tensor(5, "b2");
  check_uniform("squeezeExciteScales", dev, {{"means", &m}, {"w1", &w1}, {"b1", &b1}, {"w2", &w2}, {"b2", &b2}});
  check_rank("squeezeExciteScales", "means", m, 2, "(N, C)");
  const int64_t c = m->shape[1];
  const int64_t hidden = check_se_weights("squeezeExciteScales", "means", m, c, w1, b1, w2, b2);
  const cpu::SqueezeExcite s{m->shape[0], c, hidden, 1};
  TensorRef sc = new_tensor(dev, m->dtype, m->shape);
  if (m->dtype == DType::F32) cpu::se_scales(s, w1->f32(), ptr<float>(b1), w2->f32(), ptr<float>(b2), m->f32(), sc->f32());
  else cpu::se_scales(s, w1->f64(), ptr<double>(b1), w2->f64(), ptr<double>(b2), m->f64(), sc->f64());
  return handle_value(info.Env(), sc);
}

// squeezeExciteBackward(device, x, m, w1, b1 | null, w2, b2 | null, gy, need) -> {gx, gw1, gb1, gw2, gb2}
// (each handle | null); need: 5 flags, which of x, w1, b1, w2, b2 want a gradient.
MPF_BINDING(squeezeExciteBackward) {
  Args a(info, "squeezeExciteBackward");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x"), m = a.tensor(2, "m"), w1 = a.tensor(3, "w1"), b1 = a.opt_tensor(4, "b1"),
            w2 = a.tensor(5, "w2"), b2 = a.opt_tensor(6, "b2"), gy = a.tensor(7, "gy");
  const std::vector<int64_t> need = a.ints(8, "need", 5, 0, 1);
  const cpu::SqueezeExcite s = check_se("squeezeExciteBackward", dev, x, w1, b1, w2, b2);
  check_uniform("squeezeExciteBackward", dev, {{"x", &x}, {"m", &m}, {"gy", &gy}});
  if (m->shape != Shape{s.n, s.c}) throw_range("squeezeExciteBackward: 'm' must have shape [", s.n, ", ", s.c, "], got ", shape_str(m->shape));
  if (gy->shape != x->shape)
    throw_range("squeezeExciteBackward: 'gy' has shape ", shape_str(gy->shape), " but the output's shape is ", shape_str(x->shape));
  require_device("squeezeExciteBackward", dev);
  TensorRef gx = need[0] ? new_tensor(dev, x->dtype, x->shape) : nullptr;
  TensorRef gw1 = need[1] ? new_tensor(dev, x->dtype, w1->shape) : nullptr;
  TensorRef gb1 = need[2] && b1 ? new_tensor(dev, x->dtype, b1->shape) : nullptr;
  TensorRef gw2 = need[3] ? new_tensor(dev, x->dtype, w2->shape) : nullptr;
  TensorRef gb2 = need[4] && b2 ? new_tensor(dev, x->dtype, b2->shape) : nullptr;
  TensorRef scratch = new_tensor(dev, x->dtype, {cpu::se_scratch_elements(s)});
  if (dev == Device::CUDA) {
    const MpfSqueezeExcite cs = cuda_se(s, w1, b1, w2, b2);
    cuda_call("squeezeExciteBackward", cuda_api("squeezeExciteBackward")
                                           .se_backward(cuda_dtype(x->dtype), &cs, dptr(x), dptr(m), dptr(gy), dptr(gx),
                                                        dptr(gw1), dptr(gb1), dptr(gw2), dptr(gb2), dptr(scratch)));
  } else if (x->dtype == DType::F32) {
    cpu::se_backward(s, w1->f32(), ptr<float>(b1), w2->f32(), ptr<float>(b2), x->f32(), m->f32(), gy->f32(), ptr<float>(gx),
                     ptr<float>(gw1), ptr<float>(gb1), ptr<float>(gw2), ptr<float>(gb2), scratch->f32());
  } else {
    cpu::se_backward(s, w1->f64(), ptr<double>(b1), w2->f64(), ptr<double>(b2), x->f64(), m->f64(), gy->f64(),
                     ptr<double>(gx), ptr<double>(gw1), ptr<double>(gb1), ptr<double>(gw2), ptr<double>(gb2),
                     scratch->f64());
  }
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto put = [&](const char* k, const TensorRef& t) { o.Set(k, t ? handle_value(env, t) : env.Null()); };
  put("gx", gx);
  put("gw1", gw1);
  put("gb1", gb1);
  put("gw2", gw2);
  put("gb2", gb2);
  return o;
}

}  // namespace mpf
