// Bindings of the elementwise unary ops (kernels: cpu/unary.cc, formulas: common/unary_math.h).
#include <cstring>

#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/unary.h"

namespace mpf {
namespace {

constexpr const char* kUnaryNames[] = {"relu", "leakyRelu", "selu", "sigmoid", "tanh", "exp",
                                       "log",  "sqrt",      "abs",  "square",  "clamp", "affine"};
static_assert(sizeof(kUnaryNames) / sizeof(kUnaryNames[0]) == size_t(UnaryOp::Count));

UnaryOp unary_op(const Args& a, size_t i) {
  std::string name = a.string(i, "op");
  for (int k = 0; k < int(UnaryOp::Count); ++k)
    if (name == kUnaryNames[k]) return UnaryOp(k);
  throw_type(a.op(), ": unknown unary op '", name, "'");
}

}  // namespace

// unaryForward(device, op, x, p0, p1) -> y
MPF_BINDING(unaryForward) {
  Args a(info, "unary");
  Device dev = a.device(0);
  UnaryOp op = unary_op(a, 1);
  TensorRef x = a.tensor(2, "x");
  double p0 = a.number(3, "p0"), p1 = a.number(4, "p1");
  check_uniform(kUnaryNames[int(op)], dev, {{"x", &x}});
  require_device(kUnaryNames[int(op)], dev);
  TensorRef y = new_tensor(dev, x->dtype, x->shape);
  if (dev == Device::CUDA)
    cuda_call(kUnaryNames[int(op)], cuda_api(kUnaryNames[int(op)]).unary_forward(int32_t(op), cuda_dtype(x->dtype), dptr(x), dptr(y), x->numel(), p0, p1));
  else if (x->dtype == DType::F32) cpu::unary_forward(op, x->f32(), y->f32(), x->numel(), p0, p1);
  else cpu::unary_forward(op, x->f64(), y->f64(), x->numel(), p0, p1);
  return handle_value(info.Env(), y);
}

// unaryBackward(device, op, x | null, y | null, gy, p0, p1) -> gx
MPF_BINDING(unaryBackward) {
  Args a(info, "unaryBackward");
  Device dev = a.device(0);
  UnaryOp op = unary_op(a, 1);
  const char* name = kUnaryNames[int(op)];
  TensorRef x = a.opt_tensor(2, "x"), y = a.opt_tensor(3, "y"), gy = a.tensor(4, "gy");
  double p0 = a.number(5, "p0"), p1 = a.number(6, "p1");
  check_uniform(name, dev, {{"gy", &gy}, {"x", &x}, {"y", &y}});
  if (x) check_same_shape(name, "x", x, "gy", gy);
  if (y) check_same_shape(name, "y", y, "gy", gy);
  require_device(name, dev);
  TensorRef gx = new_tensor(dev, gy->dtype, gy->shape);
  const int64_t n = gy->numel();
  if (dev == Device::CUDA)
    cuda_call(name, cuda_api(name).unary_backward(int32_t(op), cuda_dtype(gy->dtype), dptr(x), dptr(y), dptr(gy), dptr(gx), n, p0, p1));
  else if (gy->dtype == DType::F32)
    cpu::unary_backward(op, x ? x->f32() : nullptr, y ? y->f32() : nullptr, gy->f32(), gx->f32(), n, p0, p1);
  else
    cpu::unary_backward(op, x ? x->f64() : nullptr, y ? y->f64() : nullptr, gy->f64(), gx->f64(), n, p0, p1);
  return handle_value(info.Env(), gx);
}

}  // namespace mpf
