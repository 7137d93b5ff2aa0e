// upsampleTail(device, x, stageWeight, stageBias, r, tailWeight, tailBias) -> handle:
// conv(pixelShuffle(conv(x, stageWeight, stageBias), r), tailWeight, tailBias), both convolutions
// 3x3, stride 1, padding 1, computed as one 5x5 convolution (cpu/upsample_tail.h). CPU, no gradient:
// the inference path of MPF-Net's last upsampler stage and tail (lib/models/mpfnet/upsampler.ts).
#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/upsample_tail.h"

namespace mpf {

MPF_BINDING(upsampleTail) {
  Args a(info, "upsampleTail");
  const char* op = a.op();
  const Device dev = a.device(0);
  if (dev != Device::CPU) throw_type(op, ": for CPU tensors only");
  TensorRef x = a.tensor(1, "x");
  TensorRef wz = a.tensor(2, "stageWeight");
  TensorRef bz = a.opt_tensor(3, "stageBias");
  const int64_t r = a.integer(4, "r", 2, 16);
  TensorRef wt = a.tensor(5, "tailWeight");
  TensorRef bt = a.opt_tensor(6, "tailBias");
  check_uniform(op, dev, {{"x", &x}, {"stageWeight", &wz}, {"tailWeight", &wt}});
  check_rank(op, "x", x, 4, "(N, C, H, W)");
  check_rank(op, "stageWeight", wz, 4, "(M·r², C, 3, 3)");
  check_rank(op, "tailWeight", wt, 4, "(O, M, 3, 3)");
  const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
  if (wz->shape[1] != c || wz->shape[2] != 3 || wz->shape[3] != 3 || wz->shape[0] % (r * r) != 0)
    throw_range(op, ": 'stageWeight' has shape ", shape_str(wz->shape), "; for x ", shape_str(x->shape), " and r = ", r,
                " it must be (M·", r * r, ", ", c, ", 3, 3)");
  const int64_t m = wz->shape[0] / (r * r);
  if (wt->shape[1] != m || wt->shape[2] != 3 || wt->shape[3] != 3)
    throw_range(op, ": 'tailWeight' has shape ", shape_str(wt->shape), " but the shuffled map has ", m, " channels: it must be (O, ", m, ", 3, 3)");
  const int64_t o = wt->shape[0];
  if (n < 1 || c < 1 || h < 1 || w < 1 || m < 1 || o < 1)
    throw_range(op, ": empty tensors are not supported (x ", shape_str(x->shape), ", stageWeight ", shape_str(wz->shape), ", tailWeight ",
                shape_str(wt->shape), ")");
  for (auto [name, b, len] : {std::tuple{"stageBias", &bz, wz->shape[0]}, std::tuple{"tailBias", &bt, o}}) {
    if (!*b) continue;
    check_device(op, name, *b, dev);
    check_dtype(op, name, *b, x->dtype);
    if ((*b)->shape != Shape{len}) throw_range(op, ": '", name, "' must have shape [", len, "], got ", shape_str((*b)->shape));
  }
  cpu::UpsampleTailShape s;
  s.batch = n;
  s.in_channels = c;
  s.h = h;
  s.w = w;
  s.mid_channels = m;
  s.out_channels = o;
  s.r = r;
  TensorRef y = new_tensor(dev, x->dtype, {n, o, h * r, w * r});
  if (x->dtype == DType::F32)
    cpu::upsample_tail_forward(s, x->f32(), wz->f32(), bz ? bz->f32() : nullptr, wt->f32(), bt ? bt->f32() : nullptr, y->f32());
  else
    cpu::upsample_tail_forward(s, x->f64(), wz->f64(), bz ? bz->f64() : nullptr, wt->f64(), bt ? bt->f64() : nullptr, y->f64());
  return handle_value(info.Env(), y);
}

}  // namespace mpf
