// Bindings of the MATLAB-compatible one-axis resize (kernels: cpu/resize.cc). lib/ops/resize.ts
// composes two calls into imresize and records the backward (the transposed map).
#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/resize.h"

namespace mpf {
namespace {

constexpr const char* kKernelNames[] = {"cubic", "linear", "box", "lanczos2", "lanczos3"};
static_assert(sizeof(kKernelNames) / sizeof(kKernelNames[0]) == size_t(cpu::ResizeKernel::Count));
constexpr int64_t kMaxLen = int64_t(1) << 31;

cpu::ResizeKernel resize_kernel(const Args& a, size_t i) {
  std::string name = a.string(i, "kernel");
  for (int k = 0; k < int(cpu::ResizeKernel::Count); ++k)
    if (name == kKernelNames[k]) return cpu::ResizeKernel(k);
  throw_type(a.op(), ": 'kernel' must be cubic, linear, box, lanczos2 or lanczos3, got '", name, "'");
}

struct AxisView {
  int64_t outer = 1, len = 1, inner = 1;
};

AxisView axis_view(const Shape& s, int64_t axis) {
  AxisView v;
  for (int64_t d = 0; d < axis; ++d) v.outer *= s[size_t(d)];
  v.len = s[size_t(axis)];
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) v.inner *= s[d];
  return v;
}

// Shared by forward and backward: apply the matrix m along `axis` of x.
Napi::Value run(const Args& a, const TensorRef& x, int64_t axis, const cpu::ResizeMatrix& m) {
  Shape out_shape = x->shape;
  out_shape[size_t(axis)] = m.rows;
  TensorRef y = new_tensor(x->device(), x->dtype, out_shape);
  AxisView v = axis_view(x->shape, axis);
  if (x->device() == Device::CUDA)
    cuda_call(a.op(), cuda_api(a.op()).resize_apply(cuda_dtype(x->dtype), m.row_start.data(), m.col.data(), m.weight.data(), m.rows, m.cols, dptr(x), dptr(y), v.outer, v.inner));
  else if (x->dtype == DType::F32) cpu::resize_apply(m, x->f32(), y->f32(), v.outer, v.inner);
  else cpu::resize_apply(m, x->f64(), y->f64(), v.outer, v.inner);
  return handle_value(a.env(), y);
}

}  // namespace

// resizeForward(device, x, axis, outLen, scale, kernel, antialias) -> y
MPF_BINDING(resizeForward) {
  Args a(info, "resize");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  check_uniform("resize", dev, {{"x", &x}});
  int64_t axis = a.integer(2, "axis", 0, x->rank() - 1);
  int64_t out_len = a.integer(3, "outLen", 1, kMaxLen);
  double scale = a.number(4, "scale");
  if (!(scale > 0)) throw_range("resize: 'scale' must be positive, got ", scale);
  cpu::ResizeKernel kernel = resize_kernel(a, 5);
  bool antialias = a.boolean(6, "antialias");
  require_device("resize", dev);
  cpu::ResizeMatrix m = cpu::resize_matrix(x->shape[size_t(axis)], out_len, scale, kernel, antialias);
  return run(a, x, axis, m);
}

// resizeBackward(device, gy, axis, inLen, scale, kernel, antialias) -> gx: the adjoint of the
// forward map from inLen samples to gy.shape[axis] samples.
MPF_BINDING(resizeBackward) {
  Args a(info, "resizeBackward");
  Device dev = a.device(0);
  TensorRef gy = a.tensor(1, "gy");
  check_uniform("resizeBackward", dev, {{"gy", &gy}});
  int64_t axis = a.integer(2, "axis", 0, gy->rank() - 1);
  int64_t in_len = a.integer(3, "inLen", 1, kMaxLen);
  double scale = a.number(4, "scale");
  if (!(scale > 0)) throw_range("resizeBackward: 'scale' must be positive, got ", scale);
  cpu::ResizeKernel kernel = resize_kernel(a, 5);
  bool antialias = a.boolean(6, "antialias");
  require_device("resizeBackward", dev);
  cpu::ResizeMatrix m = cpu::resize_matrix(in_len, gy->shape[size_t(axis)], scale, kernel, antialias);
  return run(a, gy, axis, cpu::transpose(m));
}

}  // namespace mpf
