// Bindings of the reductions (kernels: cpu/reduce.cc).
#include "addon/args.h"
#include "addon/cuda_plans.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/reduce.h"

namespace mpf {
namespace {

// Which dims of a rank-r tensor are reduced: dims (negative counts from the end, no repeats), or
// every dim when the argument is null / undefined.
std::vector<bool> reduced_dims(const Args& a, size_t i, int64_t rank) {
  std::vector<bool> red(size_t(rank), a.is_nullish(i));
  if (a.is_nullish(i)) return red;
  std::vector<int64_t> dims = a.ints(i, "dims", 0, -rank, rank - 1);
  if (dims.empty()) throw_range(a.op(), ": 'dims' must not be empty (omit it to reduce over every element)");
  for (int64_t d : dims) {
    const int64_t k = d < 0 ? d + rank : d;
    if (red[size_t(k)]) throw_range(a.op(), ": 'dims' names dim ", d, " twice");
    red[size_t(k)] = true;
  }
  return red;
}

// The result's shape with the reduced dims kept as 1, and as returned (dropped unless keepdim;
// never empty: a full reduction without keepdim gives [1]).
Shape kept_shape(const Shape& s, const std::vector<bool>& red) {
  Shape k = s;
  for (size_t d = 0; d < s.size(); ++d)
    if (red[d]) k[d] = 1;
  return k;
}
Shape result_shape(const Shape& s, const std::vector<bool>& red, bool keepdim) {
  if (keepdim) return kept_shape(s, red);
  Shape r;
  for (size_t d = 0; d < s.size(); ++d)
    if (!red[d]) r.push_back(s[d]);
  if (r.empty()) r.push_back(1);
  return r;
}

bool is_mean(const Args& a, size_t i) {
  std::string op = a.string(i, "op");
  if (op == "sum") return false;
  if (op == "mean") return true;
  throw_type("reduce: 'op' must be \"sum\" or \"mean\", got \"", op, "\"");
}

}  // namespace

// reduceForward(device, op: 'sum' | 'mean', x, dims | null, keepdim) -> y
MPF_BINDING(reduceForward) {
  const bool mean = is_mean(Args(info, "reduce"), 1);
  const char* name = mean ? "mean" : "sum";
  Args a(info, name);
  Device dev = a.device(0);
  TensorRef x = a.tensor(2, "x");
  check_uniform(name, dev, {{"x", &x}});
  const std::vector<bool> red = reduced_dims(a, 3, x->rank());
  const bool keepdim = a.boolean(4, "keepdim");
  require_device(name, dev);
  const Shape kept = kept_shape(x->shape, red);
  TensorRef y = new_tensor(dev, x->dtype, result_shape(x->shape, red, keepdim));
  const double scale = mean ? double(shape_numel(kept)) / double(x->numel()) : 1.0;
  if (dev == Device::CUDA) {
    const MpfReducePlan rp = cuda_reduce_plan(x->shape, kept);
    cuda_call(name, cuda_api(name).sum_reduce(cuda_dtype(x->dtype), dptr(x), dptr(y), &rp, scale));
  } else if (x->dtype == DType::F32) cpu::sum_to_shape(x->f32(), x->shape, y->f32(), kept, scale);
  else cpu::sum_to_shape(x->f64(), x->shape, y->f64(), kept, scale);
  return handle_value(info.Env(), y);
}

// reduceBackward(device, op, gy, xShape, dims | null, keepdim) -> gx: gy broadcast back to xShape
// (divided by the count for 'mean')
MPF_BINDING(reduceBackward) {
  const bool mean = is_mean(Args(info, "reduceBackward"), 1);
  const char* name = mean ? "mean" : "sum";
  Args a(info, name);
  Device dev = a.device(0);
  TensorRef gy = a.tensor(2, "gy");
  const Shape xs = a.shape(3, "xShape");
  check_uniform(name, dev, {{"gy", &gy}});
  const std::vector<bool> red = reduced_dims(a, 4, int64_t(xs.size()));
  const bool keepdim = a.boolean(5, "keepdim");
  if (gy->shape != result_shape(xs, red, keepdim))
    throw_range(name, ": 'gy' has shape ", shape_str(gy->shape), " but the result's shape is ",
                shape_str(result_shape(xs, red, keepdim)));
  require_device(name, dev);
  const Shape kept = kept_shape(xs, red);
  TensorRef gx = new_tensor(dev, gy->dtype, xs);
  const double scale = mean ? double(shape_numel(kept)) / double(shape_numel(xs)) : 1.0;
  if (dev == Device::CUDA) {
    const Shape* shapes[1] = {&kept};
    const MpfStrided plan = to_cuda_plan(make_plan<1>(xs, shapes));
    cuda_call(name, cuda_api(name).broadcast(cuda_dtype(gy->dtype), dptr(gy), dptr(gx), &plan, scale));
  } else if (gy->dtype == DType::F32) cpu::broadcast_to(gy->f32(), kept, gx->f32(), xs, scale);
  else cpu::broadcast_to(gy->f64(), kept, gx->f64(), xs, scale);
  return handle_value(info.Env(), gx);
}

// sumToShape(device, x, shape) -> y: x summed over the dims where `shape` (which must broadcast to
// x's shape) is 1 or missing. The reduction behind every broadcasting op's backward.
MPF_BINDING(sumToShape) {
  Args a(info, "sumToShape");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  const Shape to = a.shape(2, "shape");
  check_uniform("sumToShape", dev, {{"x", &x}});
  bool ok = to.size() <= x->shape.size();
  for (size_t k = 0; ok && k < to.size(); ++k) {
    const int64_t t = to[to.size() - 1 - k], s = x->shape[x->shape.size() - 1 - k];
    ok = t == s || t == 1;
  }
  if (!ok) throw_range("sumToShape: 'shape' ", shape_str(to), " does not broadcast to x's shape ", shape_str(x->shape));
  require_device("sumToShape", dev);
  TensorRef y = new_tensor(dev, x->dtype, to);
  if (dev == Device::CUDA) {
    const MpfReducePlan rp = cuda_reduce_plan(x->shape, to);
    cuda_call("sumToShape", cuda_api("sumToShape").sum_reduce(cuda_dtype(x->dtype), dptr(x), dptr(y), &rp, 1.0));
  } else if (x->dtype == DType::F32) cpu::sum_to_shape(x->f32(), x->shape, y->f32(), to, 1.0);
  else cpu::sum_to_shape(x->f64(), x->shape, y->f64(), to, 1.0);
  return handle_value(info.Env(), y);
}

namespace {

struct LseGeometry {
  int64_t outer = 1, d = 1, inner = 1;
  Shape out;
};
LseGeometry lse_geometry(const Args& a, const TensorRef& x, size_t dim_arg, size_t keep_arg) {
  const int64_t r = x->rank();
  int64_t dim = a.integer(dim_arg, "dim", -r, r - 1);
  if (dim < 0) dim += r;
  const bool keepdim = a.boolean(keep_arg, "keepdim");
  LseGeometry g;
  for (int64_t k = 0; k < r; ++k) {
    if (k < dim) g.outer *= x->shape[size_t(k)];
    else if (k > dim) g.inner *= x->shape[size_t(k)];
  }
  g.d = x->shape[size_t(dim)];
  std::vector<bool> red(size_t(r), false);
  red[size_t(dim)] = true;
  g.out = result_shape(x->shape, red, keepdim);
  return g;
}

}  // namespace

// logSumExp(device, x, dim, keepdim) -> y
MPF_BINDING(logSumExp) {
  Args a(info, "logSumExp");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  check_uniform("logSumExp", dev, {{"x", &x}});
  const LseGeometry g = lse_geometry(a, x, 2, 3);
  require_device("logSumExp", dev);
  TensorRef y = new_tensor(dev, x->dtype, g.out);
  if (dev == Device::CUDA)
    cuda_call("logSumExp", cuda_api("logSumExp").logsumexp_forward(cuda_dtype(x->dtype), dptr(x), dptr(y), g.outer, g.d, g.inner));
  else if (x->dtype == DType::F32) cpu::logsumexp_forward(x->f32(), y->f32(), g.outer, g.d, g.inner);
  else cpu::logsumexp_forward(x->f64(), y->f64(), g.outer, g.d, g.inner);
  return handle_value(info.Env(), y);
}

// logSumExpBackward(device, x, y, gy, dim, keepdim) -> gx = gy * softmax(x) along dim
MPF_BINDING(logSumExpBackward) {
  Args a(info, "logSumExp");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x"), y = a.tensor(2, "y"), gy = a.tensor(3, "gy");
  check_uniform("logSumExp", dev, {{"x", &x}, {"y", &y}, {"gy", &gy}});
  const LseGeometry g = lse_geometry(a, x, 4, 5);
  if (y->numel() != g.outer * g.inner)
    throw_range("logSumExp: 'y' has shape ", shape_str(y->shape), " but the result's shape is ", shape_str(g.out));
  if (gy->shape != y->shape) check_same_shape("logSumExp", "gy", gy, "y", y);
  require_device("logSumExp", dev);
  TensorRef gx = new_tensor(dev, x->dtype, x->shape);
  if (dev == Device::CUDA)
    cuda_call("logSumExp", cuda_api("logSumExp").logsumexp_backward(cuda_dtype(x->dtype), dptr(x), dptr(y), dptr(gy), dptr(gx), g.outer, g.d, g.inner));
  else if (x->dtype == DType::F32) cpu::logsumexp_backward(x->f32(), y->f32(), gy->f32(), gx->f32(), g.outer, g.d, g.inner);
  else cpu::logsumexp_backward(x->f64(), y->f64(), gy->f64(), gx->f64(), g.outer, g.d, g.inner);
  return handle_value(info.Env(), gx);
}

}  // namespace mpf
