// Binding of the contrastive-regularisation sample generator (cpu/cr_samples.cc): M samples from
// N source images, each with its own kernel, sharpening factor and noise level.
#include <cmath>
#include <vector>

#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/cr_samples.h"

namespace mpf {
namespace {

constexpr const char* kOp = "crSamples";
constexpr int64_t kMaxKernel = 1025;
constexpr int64_t kMaxCounter = (int64_t(1) << 53) - 1;

// One finite number per sample (>= 0 when non_negative).
std::vector<double> per_sample(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t m, bool non_negative) {
  if (i >= info.Length() || !info[i].IsArray()) throw_type(kOp, ": '", name, "' must be an array of numbers, one per sample");
  Napi::Array arr = info[i].As<Napi::Array>();
  if (int64_t(arr.Length()) != m) throw_range(kOp, ": '", name, "' has ", arr.Length(), " entries for ", m, " samples (one kernel each)");
  std::vector<double> out(static_cast<size_t>(m));
  for (uint32_t j = 0; j < arr.Length(); ++j) {
    Napi::Value v = arr.Get(j);
    if (!v.IsNumber()) throw_type(kOp, ": '", name, "[", j, "]' must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) throw_range(kOp, ": '", name, "[", j, "]' must be finite, got ", d);
    if (non_negative && d < 0) throw_range(kOp, ": '", name, "[", j, "]' must be >= 0, got ", d);
    out[j] = d;
  }
  return out;
}

}  // namespace

// crSamples(device, x (N, C, H, W), kernels (M, kh, kw), source[M], keep[M], factor[M], sigma[M],
//           seed, offset, clip) -> y (M, C, H, W)
MPF_BINDING(crSamples) {
  Args a(info, kOp);
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  TensorRef k = a.tensor(2, "kernels");
  check_uniform(kOp, dev, {{"x", &x}, {"kernels", &k}});
  check_rank(kOp, "x", x, 4, "(N, C, H, W)");
  check_rank(kOp, "kernels", k, 3, "(M, kh, kw)");
  for (int d = 1; d <= 2; ++d) {
    const int64_t s = k->shape[size_t(d)];
    if (s % 2 == 0 || s > kMaxKernel) throw_range(kOp, ": 'kernels' sizes must be odd and at most ", kMaxKernel, ", got ", shape_str(k->shape));
  }
  const auto& s = x->shape;
  const int64_t m = k->shape[0];
  const std::vector<int64_t> source = a.ints(3, "source", size_t(m), 0, s[0] - 1);
  const std::vector<int64_t> keep = a.ints(4, "keep", size_t(m), 0, int64_t(1) << 30);
  const std::vector<double> factor = per_sample(info, 5, "factor", m, false);
  const std::vector<double> sigma = per_sample(info, 6, "sigma", m, true);
  const uint64_t seed = uint64_t(a.integer(7, "seed", 0, kMaxCounter));
  const uint64_t offset = uint64_t(a.integer(8, "offset", 0, kMaxCounter));
  const Shape out_shape{m, s[1], s[2], s[3]};
  const int64_t numel = shape_numel(out_shape);
  if (double(offset) + double(numel) > double(kMaxCounter)) throw_range(kOp, ": 'offset' ", offset, " + ", numel, " elements passes 2^53");
  const bool clip = a.boolean(9, "clip");
  require_device(kOp, dev);
  TensorRef y = new_tensor(dev, x->dtype, out_shape);
  const int64_t kh = k->shape[1], kw = k->shape[2];
  if (dev == Device::CUDA)
    cuda_call(kOp, cuda_api(kOp).cr_samples(cuda_dtype(x->dtype), dptr(x), dptr(k), dptr(y), s[1], s[2], s[3], m, kh, kw, source.data(), keep.data(), factor.data(), sigma.data(), seed, offset, clip ? 1 : 0));
  else if (x->dtype == DType::F32)
    cpu::cr_samples(x->f32(), k->f32(), y->f32(), s[0], s[1], s[2], s[3], m, kh, kw, source.data(), keep.data(), factor.data(), sigma.data(), seed, offset, clip);
  else
    cpu::cr_samples(x->f64(), k->f64(), y->f64(), s[0], s[1], s[2], s[3], m, kh, kw, source.data(), keep.data(), factor.data(), sigma.data(), seed, offset, clip);
  return handle_value(a.env(), y);
}

}  // namespace mpf
