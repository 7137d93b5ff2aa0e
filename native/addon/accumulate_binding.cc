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

}  // namespace mpf
