// Bindings of matmul (2-D) and linear (any leading dims) (kernels: cpu/matmul.cc via cpu/gemm.cc).
#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/matmul.h"

namespace mpf {
namespace {

template <typename T>
T* ptr(const TensorRef& t) {
  return t ? t->data<T>() : nullptr;
}

void check_matmul(const char* op, Device dev, const TensorRef& a, const TensorRef& b) {
  check_uniform(op, dev, {{"a", &a}, {"b", &b}});
  check_rank(op, "a", a, 2, "(M, K)");
  check_rank(op, "b", b, 2, "(K, N)");
  if (a->shape[1] != b->shape[0])
    throw_range(op, ": 'a' ", shape_str(a->shape), " and 'b' ", shape_str(b->shape), " cannot be multiplied: inner sizes ",
                a->shape[1], " and ", b->shape[0], " differ");
}

// x (..., in), w (out, in), bias (out) or null.
void check_linear(const char* op, Device dev, const TensorRef& x, const TensorRef& w, const TensorRef& bias) {
  check_uniform(op, dev, {{"x", &x}, {"weight", &w}, {"bias", &bias}});
  check_rank(op, "weight", w, 2, "(out, in)");
  if (x->shape.back() != w->shape[1])
    throw_range(op, ": 'x' ", shape_str(x->shape), " has ", x->shape.back(), " features in its last dimension but 'weight' ",
                shape_str(w->shape), " expects ", w->shape[1]);
  if (bias && (bias->rank() != 1 || bias->shape[0] != w->shape[0]))
    throw_range(op, ": 'bias' must have shape [", w->shape[0], "], got ", shape_str(bias->shape));
}

}  // namespace

// matmulForward(device, a, b) -> a · b
MPF_BINDING(matmulForward) {
  Args args(info, "matmul");
  Device dev = args.device(0);
  TensorRef a = args.tensor(1, "a"), b = args.tensor(2, "b");
  check_matmul("matmul", dev, a, b);
  require_device("matmul", dev);
  const int64_t M = a->shape[0], K = a->shape[1], N = b->shape[1];
  TensorRef c = new_tensor(dev, a->dtype, {M, N});
  if (dev == Device::CUDA)
    cuda_call("matmul", cuda_api("matmul").matmul_forward(cuda_dtype(a->dtype), M, K, N, dptr(a), dptr(b), dptr(c)));
  else if (a->dtype == DType::F32) cpu::matmul_forward(M, K, N, a->f32(), b->f32(), c->f32());
  else cpu::matmul_forward(M, K, N, a->f64(), b->f64(), c->f64());
  return handle_value(info.Env(), c);
}

// matmulBackward(device, a, b, gc, needA, needB) -> {ga: handle | null, gb: handle | null}
MPF_BINDING(matmulBackward) {
  Args args(info, "matmulBackward");
  Device dev = args.device(0);
  TensorRef a = args.tensor(1, "a"), b = args.tensor(2, "b"), gc = args.tensor(3, "gc");
  const bool need_a = args.boolean(4, "needA"), need_b = args.boolean(5, "needB");
  check_matmul("matmulBackward", dev, a, b);
  check_uniform("matmulBackward", dev, {{"a", &a}, {"gc", &gc}});
  const int64_t M = a->shape[0], K = a->shape[1], N = b->shape[1];
  if (gc->shape != Shape{M, N})
    throw_range("matmulBackward: 'gc' has shape ", shape_str(gc->shape), " but the product's shape is ", shape_str(Shape{M, N}));
  require_device("matmulBackward", dev);
  TensorRef ga = need_a ? new_tensor(dev, a->dtype, a->shape) : nullptr;
  TensorRef gb = need_b ? new_tensor(dev, a->dtype, b->shape) : nullptr;
  if (dev == Device::CUDA)
    cuda_call("matmulBackward", cuda_api("matmulBackward").matmul_backward(cuda_dtype(a->dtype), M, K, N, dptr(a), dptr(b), dptr(gc), dptr(ga), dptr(gb)));
  else if (a->dtype == DType::F32) cpu::matmul_backward(M, K, N, a->f32(), b->f32(), gc->f32(), ptr<float>(ga), ptr<float>(gb));
  else cpu::matmul_backward(M, K, N, a->f64(), b->f64(), gc->f64(), ptr<double>(ga), ptr<double>(gb));
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("ga", ga ? handle_value(env, ga) : env.Null());
  out.Set("gb", gb ? handle_value(env, gb) : env.Null());
  return out;
}

// linearForward(device, x, weight, bias | null) -> x · weight^T + bias, shape (..., out)
MPF_BINDING(linearForward) {
  Args args(info, "linear");
  Device dev = args.device(0);
  TensorRef x = args.tensor(1, "x"), w = args.tensor(2, "weight"), bias = args.opt_tensor(3, "bias");
  check_linear("linear", dev, x, w, bias);
  require_device("linear", dev);
  const int64_t in = w->shape[1], out = w->shape[0], rows = x->numel() / in;
  Shape ys = x->shape;
  ys.back() = out;
  TensorRef y = new_tensor(dev, x->dtype, ys);
  if (dev == Device::CUDA)
    cuda_call("linear", cuda_api("linear").linear_forward(cuda_dtype(x->dtype), rows, in, out, dptr(x), dptr(w), dptr(bias), dptr(y)));
  else if (x->dtype == DType::F32) cpu::linear_forward(rows, in, out, x->f32(), w->f32(), ptr<float>(bias), y->f32());
  else cpu::linear_forward(rows, in, out, x->f64(), w->f64(), ptr<double>(bias), y->f64());
  return handle_value(info.Env(), y);
}

// linearBackward(device, x, weight, gy, needX, needWeight, needBias) -> {gx, gw, gb} (each handle | null)
MPF_BINDING(linearBackward) {
  Args args(info, "linearBackward");
  Device dev = args.device(0);
  TensorRef x = args.tensor(1, "x"), w = args.tensor(2, "weight"), gy = args.tensor(3, "gy");
  const bool need_x = args.boolean(4, "needX"), need_w = args.boolean(5, "needWeight"), need_b = args.boolean(6, "needBias");
  check_linear("linearBackward", dev, x, w, nullptr);
  check_uniform("linearBackward", dev, {{"x", &x}, {"gy", &gy}});
  const int64_t in = w->shape[1], out = w->shape[0], rows = x->numel() / in;
  Shape ys = x->shape;
  ys.back() = out;
  if (gy->shape != ys)
    throw_range("linearBackward: 'gy' has shape ", shape_str(gy->shape), " but the output's shape is ", shape_str(ys));
  require_device("linearBackward", dev);
  TensorRef gx = need_x ? new_tensor(dev, x->dtype, x->shape) : nullptr;
  TensorRef gw = need_w ? new_tensor(dev, x->dtype, w->shape) : nullptr;
  TensorRef gb = need_b ? new_tensor(dev, x->dtype, {out}) : nullptr;
  if (dev == Device::CUDA)
    cuda_call("linearBackward", cuda_api("linearBackward").linear_backward(cuda_dtype(x->dtype), rows, in, out, dptr(x), dptr(w), dptr(gy), dptr(gx), dptr(gw), dptr(gb)));
  else if (x->dtype == DType::F32)
    cpu::linear_backward(rows, in, out, x->f32(), w->f32(), gy->f32(), ptr<float>(gx), ptr<float>(gw), ptr<float>(gb));
  else
    cpu::linear_backward(rows, in, out, x->f64(), w->f64(), gy->f64(), ptr<double>(gx), ptr<double>(gw), ptr<double>(gb));
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("gx", gx ? handle_value(env, gx) : env.Null());
  o.Set("gw", gw ? handle_value(env, gw) : env.Null());
  o.Set("gb", gb ? handle_value(env, gb) : env.Null());
  return o;
}

}  // namespace mpf
