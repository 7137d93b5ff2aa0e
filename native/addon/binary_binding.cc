// Bindings of the elementwise binary ops with broadcasting (kernels: cpu/binary.cc, formulas:
// common/binary_math.h).
#include "addon/args.h"
#include "addon/cuda_plans.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "common/broadcast.h"
#include "cpu/binary.h"

namespace mpf {
namespace {

constexpr const char* kBinaryNames[] = {"add", "sub", "mul", "div"};
static_assert(sizeof(kBinaryNames) / sizeof(kBinaryNames[0]) == size_t(BinaryOp::Count));

BinaryOp binary_op(const Napi::CallbackInfo& info) {
  std::string name = Args(info, "binary").string(1, "op");
  for (int k = 0; k < int(BinaryOp::Count); ++k)
    if (name == kBinaryNames[k]) return BinaryOp(k);
  throw_type("binary: unknown op '", name, "'");
}

}  // namespace

// binaryForward(device, op, a, b) -> y, with numpy broadcasting
MPF_BINDING(binaryForward) {
  const BinaryOp op = binary_op(info);
  const char* name = kBinaryNames[int(op)];
  Args a(info, name);
  Device dev = a.device(0);
  TensorRef x = a.tensor(2, "a"), w = a.tensor(3, "b");
  check_uniform(name, dev, {{"a", &x}, {"b", &w}});
  const Shape out = broadcast_shapes(name, "a", x->shape, "b", w->shape);
  require_device(name, dev);
  TensorRef y = new_tensor(dev, x->dtype, out);
  if (dev == Device::CUDA) {
    const Shape* shapes[2] = {&x->shape, &w->shape};
    const MpfStrided plan = to_cuda_plan(make_plan<2>(out, shapes));
    cuda_call(name, cuda_api(name).binary_forward(int32_t(op), cuda_dtype(x->dtype), dptr(x), dptr(w), dptr(y), &plan));
  } else if (x->dtype == DType::F32) cpu::binary_forward(op, x->f32(), x->shape, w->f32(), w->shape, y->f32(), out);
  else cpu::binary_forward(op, x->f64(), x->shape, w->f64(), w->shape, y->f64(), out);
  return handle_value(info.Env(), y);
}

// binaryBackward(device, op, a, b, gy, needA, needB) -> [ga | null, gb | null], each reduced to
// its input's shape
MPF_BINDING(binaryBackward) {
  const BinaryOp op = binary_op(info);
  const char* name = kBinaryNames[int(op)];
  Args a(info, name);
  Device dev = a.device(0);
  TensorRef x = a.tensor(2, "a"), w = a.tensor(3, "b"), gy = a.tensor(4, "gy");
  const bool need_a = a.boolean(5, "needA"), need_b = a.boolean(6, "needB");
  check_uniform(name, dev, {{"a", &x}, {"b", &w}, {"gy", &gy}});
  const Shape out = broadcast_shapes(name, "a", x->shape, "b", w->shape);
  if (gy->shape != out)
    throw_range(name, ": 'gy' has shape ", shape_str(gy->shape), " but the output's shape is ", shape_str(out));
  require_device(name, dev);
  TensorRef ga = need_a ? new_tensor(dev, x->dtype, x->shape) : nullptr;
  TensorRef gb = need_b ? new_tensor(dev, x->dtype, w->shape) : nullptr;
  const bool f32 = x->dtype == DType::F32;
  if (dev == Device::CUDA) {
    const MpfCudaApi& api = cuda_api(name);
    const int32_t dt = cuda_dtype(x->dtype);
    if (ga && gb && x->shape == out && w->shape == out) {
      cuda_call(name, api.binary_backward_both(int32_t(op), dt, dptr(x), dptr(w), dptr(gy), dptr(ga), dptr(gb), gy->numel()));
    } else {
      const Shape* shapes[2] = {&x->shape, &w->shape};
      const MpfStrided plan = to_cuda_plan(make_plan<2>(out, shapes));
      for (int which = 0; which < 2; ++which) {
        const TensorRef& g = which == 0 ? ga : gb;
        if (!g) continue;
        // A broadcast input: its elementwise gradient at the output's shape, then summed down.
        const bool reduced = g->numel() != gy->numel();
        TensorRef full = reduced ? new_tensor(dev, x->dtype, out) : g;
        cuda_call(name, api.binary_grad(int32_t(op), which, dt, dptr(x), dptr(w), dptr(gy), dptr(full), &plan));
        if (reduced) {
          const MpfReducePlan rp = cuda_reduce_plan(out, g->shape);
          cuda_call(name, api.sum_reduce(dt, dptr(full), dptr(g), &rp, 1.0));
        }
      }
    }
  } else if (ga && gb && x->shape == out && w->shape == out) {
    if (f32) cpu::binary_backward_both(op, x->f32(), w->f32(), gy->f32(), ga->f32(), gb->f32(), gy->numel());
    else cpu::binary_backward_both(op, x->f64(), w->f64(), gy->f64(), ga->f64(), gb->f64(), gy->numel());
  } else {
    for (int which = 0; which < 2; ++which) {
      const TensorRef& g = which == 0 ? ga : gb;
      if (!g) continue;
      if (f32) cpu::binary_backward(op, which, x->f32(), x->shape, w->f32(), w->shape, gy->f32(), out, g->f32());
      else cpu::binary_backward(op, which, x->f64(), x->shape, w->f64(), w->shape, gy->f64(), out, g->f64());
    }
  }
  Napi::Env env = info.Env();
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(uint32_t(0), ga ? handle_value(env, ga) : env.Null());
  r.Set(uint32_t(1), gb ? handle_value(env, gb) : env.Null());
  return r;
}

}  // namespace mpf
