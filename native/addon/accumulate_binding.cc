// Binding of in-place accumulation (cpu/accumulate.cc).
#include "addon/args.h"
#include "addon/device.h"
#include "addon/registry.h"
#include "cpu/accumulate.h"

namespace mpf {

// axpyInPlace(device, y, x, alpha): y += alpha * x, same shape and dtype. Returns undefined.
MPF_BINDING(axpyInPlace) {
  Args a(info, "axpyInPlace");
  Device dev = a.device(0);
  TensorRef y = a.tensor(1, "y"), x = a.tensor(2, "x");
  double alpha = a.number(3, "alpha");
  check_uniform("axpyInPlace", dev, {{"y", &y}, {"x", &x}});
  check_same_shape("axpyInPlace", "y", y, "x", x);
  require_device("axpyInPlace", dev);
  if (dev == Device::CUDA)
    cuda_call("axpyInPlace", cuda_api("axpyInPlace").axpy(cuda_dtype(y->dtype), dptr(y), dptr(x), alpha, y->numel()));
  else if (y->dtype == DType::F32) cpu::axpy_inplace(y->f32(), x->f32(), float(alpha), y->numel());
  else cpu::axpy_inplace(y->f64(), x->f64(), alpha, y->numel());
  return info.Env().Undefined();
}

// scaleAddInPlace(device, y, s, x): y = y · s + x with y, x (N, C, H, W) and s (N, C), one scale per
// plane (CPU; inference's residual sums with a squeeze-excitation folded in). Returns undefined.
MPF_BINDING(scaleAddInPlace) {
  Args a(info, "scaleAddInPlace");
  Device dev = a.device(0);
  TensorRef y = a.tensor(1, "y"), s = a.tensor(2, "s"), x = a.tensor(3, "x");
  if (dev != Device::CPU) throw_type("scaleAddInPlace: for CPU tensors only");
  check_uniform("scaleAddInPlace", dev, {{"y", &y}, {"s", &s}, {"x", &x}});
  check_rank("scaleAddInPlace", "y", y, 4, "(N, C, H, W)");
  check_same_shape("scaleAddInPlace", "y", y, "x", x);
  if (s->shape != Shape{y->shape[0], y->shape[1]})
    throw_range("scaleAddInPlace: 's' must have shape [", y->shape[0], ", ", y->shape[1], "], got ", shape_str(s->shape));
  const int64_t planes = y->shape[0] * y->shape[1], hw = y->shape[2] * y->shape[3];
  if (y->dtype == DType::F32) cpu::scale_add_inplace(y->f32(), s->f32(), x->f32(), planes, hw);
  else cpu::scale_add_inplace(y->f64(), s->f64(), x->f64(), planes, hw);
  return info.Env().Undefined();
}

}  // namespace mpf
