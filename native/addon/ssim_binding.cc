// Binding of the SSIM metric kernel (cpu/ssim.cc); lib/metrics/ssim.ts prepares the planes.
#include <algorithm>

#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/ssim.h"

namespace mpf {

// ssimForward(device, x, y) -> [C] float64: the mean SSIM map of each channel of x (C, H, W) against
// y, both float64 on the 0..255 scale, H and W >= 11.
MPF_BINDING(ssimForward) {
  Args a(info, "ssim");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x"), y = a.tensor(2, "y");
  check_uniform("ssim", dev, {{"x", &x}, {"y", &y}});
  check_dtype("ssim", "x", x, DType::F64);
  check_rank("ssim", "x", x, 3, "(C, H, W)");
  check_same_shape("ssim", "x", x, "y", y);
  if (x->shape[1] < 11 || x->shape[2] < 11)
    throw_range("ssim: images must be at least 11×11 (the window), got ", x->shape[2], "×", x->shape[1]);
  require_device("ssim", dev);
  std::vector<double> m;
  if (dev == Device::CUDA) {
    // A metric on a few images: computed on the host from a copy (no GPU kernel needed).
    const MpfCudaApi& api = cuda_api("ssim");
    std::vector<double> hx(size_t(x->numel())), hy(size_t(y->numel()));
    cuda_call("ssim", api.copy_d2h(hx.data(), dptr(x), x->nbytes()));
    cuda_call("ssim", api.copy_d2h(hy.data(), dptr(y), y->nbytes()));
    m = cpu::ssim_channel_means(hx.data(), hy.data(), x->shape[0], x->shape[1], x->shape[2]);
  } else {
    m = cpu::ssim_channel_means(x->f64(), y->f64(), x->shape[0], x->shape[1], x->shape[2]);
  }
  TensorRef out = new_tensor(dev, DType::F64, Shape{x->shape[0]});
  if (dev == Device::CUDA) cuda_call("ssim", cuda_api("ssim").copy_h2d(dptr(out), m.data(), out->nbytes()));
  else std::copy(m.begin(), m.end(), out->f64());
  return handle_value(info.Env(), out);
}

}  // namespace mpf
