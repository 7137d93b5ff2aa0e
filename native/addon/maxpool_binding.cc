// Bindings of 2-D max pooling (kernels: cpu/maxpool.cc).
#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/maxpool.h"

namespace mpf {
namespace {

// kernel, stride, padding as [h, w] at args i, i+1, i+2, checked like PyTorch: kernel, stride >= 1,
// 0 <= padding <= kernel / 2, and an output of at least one pixel.
cpu::MaxPool2dGeometry geometry(const Args& a, const Shape& x, size_t i) {
  const auto k = a.ints(i, "kernel", 2, 1, 1 << 20);
  const auto s = a.ints(i + 1, "stride", 2, 1, 1 << 20);
  const auto p = a.ints(i + 2, "padding", 2, 0, 1 << 20);
  for (int d = 0; d < 2; ++d)
    if (p[d] * 2 > k[d]) throw_range("maxPool2d: 'padding' ", p[d], " must be at most half of the kernel size ", k[d]);
  cpu::MaxPool2dGeometry g{x[0], x[1], x[2], x[3], k[0], k[1], s[0], s[1], p[0], p[1], 0, 0};
  if (g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw)
    throw_range("maxPool2d: 'kernel' [", g.kh, ", ", g.kw, "] is larger than the padded input [", g.h + 2 * g.ph, ", ",
                g.w + 2 * g.pw, "] (x shape ", shape_str(x), ")");
  g.oh = (g.h + 2 * g.ph - g.kh) / g.sh + 1;
  g.ow = (g.w + 2 * g.pw - g.kw) / g.sw + 1;
  return g;
}

MpfPool2d cuda_pool(const cpu::MaxPool2dGeometry& g) {
  return MpfPool2d{g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.oh, g.ow};
}

}  // namespace

// maxPool2d(device, x, kernel[2], stride[2], padding[2]) -> y (N, C, OH, OW)
MPF_BINDING(maxPool2d) {
  Args a(info, "maxPool2d");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  check_uniform("maxPool2d", dev, {{"x", &x}});
  check_rank("maxPool2d", "x", x, 4, "(N, C, H, W)");
  const cpu::MaxPool2dGeometry g = geometry(a, x->shape, 2);
  require_device("maxPool2d", dev);
  TensorRef y = new_tensor(dev, x->dtype, {g.n, g.c, g.oh, g.ow});
  if (dev == Device::CUDA) {
    const MpfPool2d pg = cuda_pool(g);
    cuda_call("maxPool2d", cuda_api("maxPool2d").max_pool2d_forward(cuda_dtype(x->dtype), dptr(x), dptr(y), &pg));
  } else if (x->dtype == DType::F32) cpu::max_pool2d_forward(x->f32(), y->f32(), g);
  else cpu::max_pool2d_forward(x->f64(), y->f64(), g);
  return handle_value(info.Env(), y);
}

// maxPool2dBackward(device, x, gy, kernel, stride, padding) -> gx (the shape of x)
MPF_BINDING(maxPool2dBackward) {
  Args a(info, "maxPool2d");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x"), gy = a.tensor(2, "gy");
  check_uniform("maxPool2d", dev, {{"x", &x}, {"gy", &gy}});
  check_rank("maxPool2d", "x", x, 4, "(N, C, H, W)");
  const cpu::MaxPool2dGeometry g = geometry(a, x->shape, 3);
  if (gy->shape != Shape{g.n, g.c, g.oh, g.ow})
    throw_range("maxPool2d: 'gy' has shape ", shape_str(gy->shape), " but the output's shape is ", shape_str(Shape{g.n, g.c, g.oh, g.ow}));
  require_device("maxPool2d", dev);
  TensorRef gx = new_tensor(dev, x->dtype, x->shape);
  if (dev == Device::CUDA) {
    const MpfPool2d pg = cuda_pool(g);
    cuda_call("maxPool2d", cuda_api("maxPool2d").max_pool2d_backward(cuda_dtype(x->dtype), dptr(x), dptr(gy), dptr(gx), &pg));
  } else if (x->dtype == DType::F32) cpu::max_pool2d_backward(x->f32(), gy->f32(), gx->f32(), g);
  else cpu::max_pool2d_backward(x->f64(), gy->f64(), gx->f64(), g);
  return handle_value(info.Env(), gx);
}

}  // namespace mpf
