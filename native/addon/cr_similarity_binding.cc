// Bindings of the per-pixel normalised similarity (cpu/cr_similarity.cc): forward and its gradient.
#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/cr_similarity.h"

namespace mpf {
namespace {

constexpr const char* kOp = "crSimilarity";

struct Checked {
  TensorRef a, b;
  std::vector<int64_t> index;
  double eps;
};

// a (N, C, H, W), b (M, C, H, W), index[M] in [0, N), eps > 0 at args 1..4.
Checked check(const Args& args, Device dev) {
  Checked r;
  r.a = args.tensor(1, "a");
  r.b = args.tensor(2, "b");
  check_uniform(kOp, dev, {{"a", &r.a}, {"b", &r.b}});
  check_rank(kOp, "a", r.a, 4, "(N, C, H, W)");
  check_rank(kOp, "b", r.b, 4, "(M, C, H, W)");
  const Shape& sa = r.a->shape;
  const Shape& sb = r.b->shape;
  if (sa[1] != sb[1] || sa[2] != sb[2] || sa[3] != sb[3])
    throw_range(kOp, ": 'a' ", shape_str(sa), " and 'b' ", shape_str(sb), " must agree in (C, H, W)");
  r.index = args.ints(3, "index", size_t(sb[0]), 0, sa[0] - 1);
  r.eps = args.number_in(4, "eps", 1e-300, 1.0);
  if (!(r.eps > 0)) throw_range(kOp, ": 'eps' must be > 0, got ", r.eps);
  return r;
}

}  // namespace

// crSimilarity(device, a, b, index[M], eps) -> s (M)
MPF_BINDING(crSimilarity) {
  Args args(info, kOp);
  Device dev = args.device(0);
  Checked c = check(args, dev);
  require_device(kOp, dev);
  const Shape& sa = c.a->shape;
  const int64_t m = c.b->shape[0];
  TensorRef s = new_tensor(dev, c.a->dtype, {m});
  if (dev == Device::CUDA)
    cuda_call(kOp, cuda_api(kOp).cr_similarity_forward(cuda_dtype(c.a->dtype), dptr(c.a), dptr(c.b), c.index.data(), dptr(s), m, sa[1], sa[2] * sa[3], c.eps));
  else if (c.a->dtype == DType::F32)
    cpu::cr_similarity_forward(c.a->f32(), c.b->f32(), c.index.data(), s->f32(), sa[0], m, sa[1], sa[2] * sa[3], c.eps);
  else
    cpu::cr_similarity_forward(c.a->f64(), c.b->f64(), c.index.data(), s->f64(), sa[0], m, sa[1], sa[2] * sa[3], c.eps);
  return handle_value(args.env(), s);
}

// crSimilarityBackward(device, a, b, index[M], eps, gs (M), needA, needB) -> [ga | null, gb | null]
MPF_BINDING(crSimilarityBackward) {
  Args args(info, kOp);
  Device dev = args.device(0);
  Checked c = check(args, dev);
  TensorRef gs = args.tensor(5, "gs");
  check_uniform(kOp, dev, {{"a", &c.a}, {"gs", &gs}});
  const int64_t m = c.b->shape[0];
  if (gs->shape != Shape{m}) throw_range(kOp, ": 'gs' has shape ", shape_str(gs->shape), " but the output's shape is ", shape_str(Shape{m}));
  const bool need_a = args.boolean(6, "needA");
  const bool need_b = args.boolean(7, "needB");
  require_device(kOp, dev);
  const Shape& sa = c.a->shape;
  TensorRef ga = need_a ? new_tensor(dev, c.a->dtype, sa) : nullptr;
  TensorRef gb = need_b ? new_tensor(dev, c.a->dtype, c.b->shape) : nullptr;
  if ((need_a || need_b) && dev == Device::CUDA) {
    cuda_call(kOp, cuda_api(kOp).cr_similarity_backward(cuda_dtype(c.a->dtype), dptr(c.a), dptr(c.b), c.index.data(), dptr(gs), dptr(ga), dptr(gb), sa[0], m, sa[1], sa[2] * sa[3], c.eps));
  } else if (need_a || need_b) {
    if (c.a->dtype == DType::F32)
      cpu::cr_similarity_backward(c.a->f32(), c.b->f32(), c.index.data(), gs->f32(), ga ? ga->f32() : nullptr, gb ? gb->f32() : nullptr,
                                  sa[0], m, sa[1], sa[2] * sa[3], c.eps);
    else
      cpu::cr_similarity_backward(c.a->f64(), c.b->f64(), c.index.data(), gs->f64(), ga ? ga->f64() : nullptr, gb ? gb->f64() : nullptr,
                                  sa[0], m, sa[1], sa[2] * sa[3], c.eps);
  }
  Napi::Env env = args.env();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t(0), ga ? handle_value(env, ga) : env.Null());
  out.Set(uint32_t(1), gb ? handle_value(env, gb) : env.Null());
  return out;
}

}  // namespace mpf
