// Binding of the in-place Adam / AdamW update (kernel: cpu/adam.cc, formula: common/adam_math.h).
#include "addon/args.h"
#include "addon/device.h"
#include "addon/registry.h"
#include "cpu/adam.h"

namespace mpf {

// adamUpdate(device, param, grad, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay, step,
// decoupled): one step of torch.optim.Adam (decoupled = false: weight decay as L2 added to the
// gradient) or AdamW (true), updating param, expAvg and expAvgSq in place. Returns undefined.
MPF_BINDING(adamUpdate) {
  Args a(info, "adamUpdate");
  Device dev = a.device(0);
  TensorRef p = a.tensor(1, "param"), g = a.tensor(2, "grad"), m = a.tensor(3, "expAvg"), v = a.tensor(4, "expAvgSq");
  cpu::AdamHyper h;
  h.lr = a.number(5, "lr");
  if (h.lr < 0) throw_range("adamUpdate: 'lr' must be >= 0, got ", h.lr);
  h.beta1 = a.number(6, "beta1");
  if (!(h.beta1 >= 0 && h.beta1 < 1)) throw_range("adamUpdate: 'beta1' must be in [0, 1), got ", h.beta1);
  h.beta2 = a.number(7, "beta2");
  if (!(h.beta2 >= 0 && h.beta2 < 1)) throw_range("adamUpdate: 'beta2' must be in [0, 1), got ", h.beta2);
  h.eps = a.number(8, "eps");
  if (!(h.eps > 0)) throw_range("adamUpdate: 'eps' must be > 0, got ", h.eps);
  h.weight_decay = a.number(9, "weightDecay");
  if (h.weight_decay < 0) throw_range("adamUpdate: 'weightDecay' must be >= 0, got ", h.weight_decay);
  h.step = a.integer(10, "step", 1, int64_t(1) << 53);
  h.decoupled = a.boolean(11, "decoupled");
  check_uniform("adamUpdate", dev, {{"param", &p}, {"grad", &g}, {"expAvg", &m}, {"expAvgSq", &v}});
  check_same_shape("adamUpdate", "param", p, "grad", g);
  check_same_shape("adamUpdate", "param", p, "expAvg", m);
  check_same_shape("adamUpdate", "param", p, "expAvgSq", v);
  // The state is updated in place, so two of the written tensors sharing memory would corrupt it.
  const TensorRef* ts[] = {&p, &g, &m, &v};
  const char* names[] = {"param", "grad", "expAvg", "expAvgSq"};
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j)
      if ((*ts[i])->storage == (*ts[j])->storage)
        throw_range("adamUpdate: '", names[i], "' and '", names[j], "' share memory; each needs its own buffer");
  require_device("adamUpdate", dev);
  if (dev == Device::CUDA) {
    const MpfAdam ha{h.lr, h.beta1, h.beta2, h.eps, h.weight_decay, h.step, h.decoupled ? 1 : 0};
    cuda_call("adamUpdate", cuda_api("adamUpdate").adam_update(cuda_dtype(p->dtype), dptr(p), dptr(g), dptr(m), dptr(v), p->numel(), &ha));
  } else if (p->dtype == DType::F32) cpu::adam_update(p->f32(), g->f32(), m->f32(), v->f32(), p->numel(), h);
  else cpu::adam_update(p->f64(), g->f64(), m->f64(), v->f64(), p->numel(), h);
  return info.Env().Undefined();
}

}  // namespace mpf
