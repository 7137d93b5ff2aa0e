// Bindings of the L1 loss (kernels: cpu/loss.cc).
#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/loss.h"

namespace mpf {
namespace {

bool is_mean(const Args& a, size_t i) {
  std::string r = a.string(i, "reduction");
  if (r == "mean") return true;
  if (r == "sum") return false;
  throw_type("l1Loss: 'reduction' must be \"mean\" or \"sum\", got \"", r, "\"");
}

}  // namespace

// l1Loss(device, pred, target, reduction: 'mean' | 'sum') -> [1]
MPF_BINDING(l1Loss) {
  Args a(info, "l1Loss");
  Device dev = a.device(0);
  TensorRef p = a.tensor(1, "pred"), t = a.tensor(2, "target");
  const bool mean = is_mean(a, 3);
  check_uniform("l1Loss", dev, {{"pred", &p}, {"target", &t}});
  check_same_shape("l1Loss", "pred", p, "target", t);
  require_device("l1Loss", dev);
  TensorRef y = new_tensor(dev, p->dtype, {1});
  const int64_t n = p->numel();
  if (dev == Device::CUDA) {
    cuda_call("l1Loss", cuda_api("l1Loss").l1_loss(cuda_dtype(p->dtype), dptr(p), dptr(t), n, dptr(y), mean ? 1.0 / double(n) : 1.0));
    return handle_value(info.Env(), y);
  }
  const double s = p->dtype == DType::F32 ? cpu::l1_sum(p->f32(), t->f32(), n) : cpu::l1_sum(p->f64(), t->f64(), n);
  const double v = mean ? s / double(n) : s;
  if (p->dtype == DType::F32) y->f32()[0] = float(v);
  else y->f64()[0] = v;
  return handle_value(info.Env(), y);
}

// l1LossBackward(device, pred, target, gy, reduction, needPred, needTarget) -> [gpred | null, gtarget | null]
MPF_BINDING(l1LossBackward) {
  Args a(info, "l1Loss");
  Device dev = a.device(0);
  TensorRef p = a.tensor(1, "pred"), t = a.tensor(2, "target"), gy = a.tensor(3, "gy");
  const bool mean = is_mean(a, 4);
  const bool need_p = a.boolean(5, "needPred"), need_t = a.boolean(6, "needTarget");
  check_uniform("l1Loss", dev, {{"pred", &p}, {"target", &t}, {"gy", &gy}});
  check_same_shape("l1Loss", "pred", p, "target", t);
  if (gy->numel() != 1) throw_range("l1Loss: 'gy' must have one element, got shape ", shape_str(gy->shape));
  require_device("l1Loss", dev);
  const int64_t n = p->numel();
  TensorRef gp = need_p ? new_tensor(dev, p->dtype, p->shape) : nullptr;
  TensorRef gt = need_t ? new_tensor(dev, p->dtype, p->shape) : nullptr;
  if (dev == Device::CUDA) {
    // gy stays on the device: the kernel reads it (no host round trip).
    cuda_call("l1Loss", cuda_api("l1Loss").l1_backward(cuda_dtype(p->dtype), dptr(p), dptr(t), dptr(gy), mean ? 1.0 / double(n) : 1.0, dptr(gp), dptr(gt), n));
  } else if (p->dtype == DType::F32) {
    const float s = gy->f32()[0] / (mean ? float(n) : 1.0f);
    cpu::l1_backward(p->f32(), t->f32(), s, gp ? gp->f32() : nullptr, gt ? gt->f32() : nullptr, n);
  } else {
    const double s = gy->f64()[0] / (mean ? double(n) : 1.0);
    cpu::l1_backward(p->f64(), t->f64(), s, gp ? gp->f64() : nullptr, gt ? gt->f64() : nullptr, n);
  }
  Napi::Env env = info.Env();
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(uint32_t(0), gp ? handle_value(env, gp) : env.Null());
  r.Set(uint32_t(1), gt ? handle_value(env, gt) : env.Null());
  return r;
}

}  // namespace mpf
