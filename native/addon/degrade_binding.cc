// Bindings of the degradation kernels (cpu/degrade.cc): the per-image 2-D filter (forward and its
// adjoint) and the Gaussian / Poisson noise that lib/data/degrade.ts applies to HR training images.
#include <cmath>
#include <vector>

#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/degrade.h"

namespace mpf {
namespace {

constexpr int64_t kMaxKernel = 1025;
constexpr int64_t kMaxCounter = (int64_t(1) << 53) - 1;

// x (N, C, H, W) and k (N or 1, kh, kw) with odd kh, kw: the checks forward and backward share.
void check_filter_args(const char* op, Device dev, const char* xname, const TensorRef& x, const TensorRef& k) {
  check_uniform(op, dev, {{xname, &x}, {"kernel", &k}});
  check_rank(op, xname, x, 4, "(N, C, H, W)");
  check_rank(op, "kernel", k, 3, "(N, kh, kw)");
  if (k->shape[0] != x->shape[0] && k->shape[0] != 1)
    throw_range(op, ": 'kernel' has ", k->shape[0], " kernels for ", x->shape[0], " images (", shape_str(k->shape), " vs ", shape_str(x->shape), "); give one per image or one for all");
  for (int d = 1; d <= 2; ++d) {
    const int64_t s = k->shape[size_t(d)];
    if (s % 2 == 0 || s > kMaxKernel) throw_range(op, ": 'kernel' sizes must be odd and at most ", kMaxKernel, ", got ", shape_str(k->shape));
  }
}

Napi::Value filter(const Napi::CallbackInfo& info, bool backward) {
  const char* op = backward ? "filter2dBackward" : "filter2d";
  Args a(info, op);
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, backward ? "gy" : "x");
  TensorRef k = a.tensor(2, "kernel");
  check_filter_args(op, dev, backward ? "gy" : "x", x, k);
  require_device(op, dev);
  const auto& s = x->shape;
  TensorRef y = new_tensor(dev, x->dtype, s);
  const int64_t kn = k->shape[0], kh = k->shape[1], kw = k->shape[2];
  if (dev == Device::CUDA) {
    cuda_call(op, cuda_api(op).filter2d(cuda_dtype(x->dtype), dptr(x), dptr(k), dptr(y), s[0], s[1], s[2], s[3], kn, kh, kw, backward ? 1 : 0));
  } else if (x->dtype == DType::F32) {
    if (backward) cpu::filter2d_backward(x->f32(), k->f32(), y->f32(), s[0], s[1], s[2], s[3], kn, kh, kw);
    else cpu::filter2d_forward(x->f32(), k->f32(), y->f32(), s[0], s[1], s[2], s[3], kn, kh, kw);
  } else {
    if (backward) cpu::filter2d_backward(x->f64(), k->f64(), y->f64(), s[0], s[1], s[2], s[3], kn, kh, kw);
    else cpu::filter2d_forward(x->f64(), k->f64(), y->f64(), s[0], s[1], s[2], s[3], kn, kh, kw);
  }
  return handle_value(a.env(), y);
}

// One finite, non-negative number per image.
std::vector<double> per_image_numbers(const Napi::CallbackInfo& info, const char* op, size_t i, const char* name, int64_t n) {
  if (i >= info.Length() || !info[i].IsArray()) throw_type(op, ": '", name, "' must be an array of numbers, one per image");
  Napi::Array arr = info[i].As<Napi::Array>();
  if (int64_t(arr.Length()) != n) throw_range(op, ": '", name, "' has ", arr.Length(), " entries for ", n, " images");
  std::vector<double> out(static_cast<size_t>(n));
  for (uint32_t j = 0; j < arr.Length(); ++j) {
    Napi::Value v = arr.Get(j);
    if (!v.IsNumber()) throw_type(op, ": '", name, "[", j, "]' must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d < 0) throw_range(op, ": '", name, "[", j, "]' must be finite and >= 0, got ", d);
    out[j] = d;
  }
  return out;
}

std::vector<uint8_t> per_image_flags(const Napi::CallbackInfo& info, const char* op, size_t i, const char* name, int64_t n) {
  if (i >= info.Length() || !info[i].IsArray()) throw_type(op, ": '", name, "' must be an array of booleans, one per image");
  Napi::Array arr = info[i].As<Napi::Array>();
  if (int64_t(arr.Length()) != n) throw_range(op, ": '", name, "' has ", arr.Length(), " entries for ", n, " images");
  std::vector<uint8_t> out(static_cast<size_t>(n));
  for (uint32_t j = 0; j < arr.Length(); ++j) {
    Napi::Value v = arr.Get(j);
    if (!v.IsBoolean()) throw_type(op, ": '", name, "[", j, "]' must be a boolean");
    out[j] = v.As<Napi::Boolean>().Value() ? 1 : 0;
  }
  return out;
}

Napi::Value noise(const Napi::CallbackInfo& info, bool poisson) {
  const char* op = poisson ? "poissonNoise" : "gaussianNoise";
  const char* amount = poisson ? "scale" : "sigma";
  Args a(info, op);
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  check_uniform(op, dev, {{"x", &x}});
  check_rank(op, "x", x, 4, "(N, C, H, W)");
  const auto& s = x->shape;
  std::vector<double> amounts = per_image_numbers(info, op, 2, amount, s[0]);
  std::vector<uint8_t> grey = per_image_flags(info, op, 3, "grey", s[0]);
  if (poisson) {
    for (int64_t j = 0; j < s[0]; ++j)
      if (grey[size_t(j)] && s[1] != 1 && s[1] != 3) throw_range(op, ": grey noise needs 1 or 3 channels, got ", s[1], " (x ", shape_str(s), ")");
  }
  const uint64_t seed = uint64_t(a.integer(4, "seed", 0, kMaxCounter));
  const uint64_t offset = uint64_t(a.integer(5, "offset", 0, kMaxCounter));
  if (double(offset) + double(x->numel()) > double(kMaxCounter)) throw_range(op, ": 'offset' ", offset, " + ", x->numel(), " elements passes 2^53");
  const bool clip = a.boolean(6, "clip");
  require_device(op, dev);
  TensorRef y = new_tensor(dev, x->dtype, s);
  const int64_t hw = s[2] * s[3];
  if (dev == Device::CUDA && !poisson) {
    cuda_call(op, cuda_api(op).gaussian_noise(cuda_dtype(x->dtype), dptr(x), dptr(y), s[0], s[1], hw, amounts.data(), grey.data(), seed, offset, clip ? 1 : 0));
  } else if (dev == Device::CUDA) {
    // Poisson draws use a host-side rejection sampler: run the CPU kernel on a host copy.
    const MpfCudaApi& api = cuda_api(op);
    TensorRef hx = new_tensor(Device::CPU, x->dtype, s), hy = new_tensor(Device::CPU, x->dtype, s);
    cuda_call(op, api.copy_d2h(dptr(hx), dptr(x), x->nbytes()));
    if (x->dtype == DType::F32) cpu::poisson_noise(hx->f32(), hy->f32(), s[0], s[1], hw, amounts.data(), grey.data(), seed, offset, clip);
    else cpu::poisson_noise(hx->f64(), hy->f64(), s[0], s[1], hw, amounts.data(), grey.data(), seed, offset, clip);
    cuda_call(op, api.copy_h2d(dptr(y), dptr(hy), y->nbytes()));
    // The upload is queued; hy must outlive it: wait before it is freed.
    cuda_call(op, api.synchronize());
  } else if (x->dtype == DType::F32) {
    if (poisson) cpu::poisson_noise(x->f32(), y->f32(), s[0], s[1], hw, amounts.data(), grey.data(), seed, offset, clip);
    else cpu::gaussian_noise(x->f32(), y->f32(), s[0], s[1], hw, amounts.data(), grey.data(), seed, offset, clip);
  } else {
    if (poisson) cpu::poisson_noise(x->f64(), y->f64(), s[0], s[1], hw, amounts.data(), grey.data(), seed, offset, clip);
    else cpu::gaussian_noise(x->f64(), y->f64(), s[0], s[1], hw, amounts.data(), grey.data(), seed, offset, clip);
  }
  return handle_value(a.env(), y);
}

}  // namespace

// filter2d(device, x, kernel) -> y: every channel of image n correlated with kernel n, reflect-101 borders
MPF_BINDING(filter2d) { return filter(info, false); }
// filter2dBackward(device, gy, kernel) -> gx
MPF_BINDING(filter2dBackward) { return filter(info, true); }
// gaussianNoise(device, x, sigma[], grey[], seed, offset, clip) -> y
MPF_BINDING(gaussianNoise) { return noise(info, false); }
// poissonNoise(device, x, scale[], grey[], seed, offset, clip) -> y
MPF_BINDING(poissonNoise) { return noise(info, true); }

}  // namespace mpf
