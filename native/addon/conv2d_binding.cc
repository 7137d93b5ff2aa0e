// Bindings of conv2d (kernels: cpu/conv2d*.cc). The input is a list of tensors whose channels are
// concatenated; the kernels read the parts in place and return one input gradient per part.
#include <algorithm>
#include <string>
#include <vector>

#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "common/unary_math.h"
#include "cpu/conv2d.h"
#include "cpu/conv2d_fold.h"

namespace mpf {
namespace {

// Strides, paddings and dilations beyond this are certainly mistakes, and keeping them small
// keeps every size computation far from overflow.
constexpr int64_t kMaxConvParam = int64_t(1) << 20;

struct ConvArgs {
  std::vector<TensorRef> xs;
  TensorRef w, b;
  cpu::Conv2dShape shape;
  DType dtype = DType::F32;
};

std::string part_list(const std::vector<TensorRef>& xs) {
  std::string s;
  for (size_t j = 0; j < xs.size(); ++j) s += (j ? " + " : "") + std::to_string(xs[j]->shape[1]);
  return s;
}

// The input parts, named 'x' when there is one and 'x[j]' otherwise (so messages match the call).
std::vector<TensorRef> read_parts(const Args& a, const Napi::CallbackInfo& info, const char* op) {
  if (a.is_nullish(1) || !info[1].IsArray()) throw_type(op, ": 'x' must be an array of tensor handles");
  Napi::Array arr = info[1].As<Napi::Array>();
  if (arr.Length() == 0) throw_range(op, ": 'x' must not be empty");
  std::vector<TensorRef> xs;
  for (uint32_t j = 0; j < arr.Length(); ++j) {
    const std::string name = arr.Length() == 1 ? std::string("x") : str("x[", j, "]");
    Napi::Value v = arr.Get(j);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 1 && d < 4294967296.0) || d != double(uint32_t(d))) throw_type(op, ": '", name, "' is not a tensor handle");
    xs.push_back(handle_get(HandleId(d), op, name.c_str()));
  }
  return xs;
}

// Reads and validates (device, xs, w, b?, stride, padding, dilation) at argument positions
// [0, 1, 2, bias_at, params_at..params_at+2]; bias_at < 0: the call has no bias argument.
ConvArgs read_conv_args(const Args& a, const Napi::CallbackInfo& info, Device dev, int bias_at, int params_at) {
  const char* op = a.op();
  ConvArgs r;
  r.xs = read_parts(a, info, op);
  r.w = a.tensor(2, "weight");
  if (bias_at >= 0) r.b = a.opt_tensor(size_t(bias_at), "bias");
  const auto stride = a.ints(size_t(params_at), "stride", 2, 1, kMaxConvParam);
  const auto padding = a.ints(size_t(params_at + 1), "padding", 2, 0, kMaxConvParam);
  const auto dilation = a.ints(size_t(params_at + 2), "dilation", 2, 1, kMaxConvParam);

  const TensorRef& x0 = r.xs[0];
  for (size_t j = 0; j < r.xs.size(); ++j) {
    const std::string name = r.xs.size() == 1 ? std::string("x") : str("x[", j, "]");
    const TensorRef& x = r.xs[j];
    check_device(op, name.c_str(), x, dev);
    check_rank(op, name.c_str(), x, 4, "(N, C, H, W)");
    check_dtype(op, name.c_str(), x, x0->dtype);
    if (x->shape[0] != x0->shape[0] || x->shape[2] != x0->shape[2] || x->shape[3] != x0->shape[3])
      throw_range(op, ": '", name, "' has shape ", shape_str(x->shape), " but 'x[0]' has ", shape_str(x0->shape),
                  "; the parts must agree in batch, height and width (they are concatenated along channels)");
  }
  check_device(op, "weight", r.w, dev);
  check_rank(op, "weight", r.w, 4, "(out, in, kh, kw)");
  check_dtype(op, "weight", r.w, x0->dtype);
  int64_t cin = 0;
  for (const TensorRef& x : r.xs) cin += x->shape[1];
  if (r.w->shape[1] != cin)
    throw_range(op, ": 'weight' ", shape_str(r.w->shape), " expects ", r.w->shape[1], " input channels but the input has ",
                r.xs.size() == 1 ? std::to_string(cin) : part_list(r.xs) + " = " + std::to_string(cin));
  if (r.b) {
    check_device(op, "bias", r.b, dev);
    check_dtype(op, "bias", r.b, x0->dtype);
    if (r.b->rank() != 1 || r.b->shape[0] != r.w->shape[0])
      throw_range(op, ": 'bias' must have shape [", r.w->shape[0], "] (one value per output channel), got ", shape_str(r.b->shape));
  }

  cpu::Conv2dShape& s = r.shape;
  s.batch = x0->shape[0];
  for (const TensorRef& x : r.xs) s.in_channels.push_back(x->shape[1]);
  s.in_h = x0->shape[2];
  s.in_w = x0->shape[3];
  s.out_channels = r.w->shape[0];
  s.kernel_h = r.w->shape[2];
  s.kernel_w = r.w->shape[3];
  s.stride_h = stride[0];
  s.stride_w = stride[1];
  s.pad_h = padding[0];
  s.pad_w = padding[1];
  s.dilation_h = dilation[0];
  s.dilation_w = dilation[1];
  const int64_t oh = s.out_h(), ow = s.out_w();
  if (oh < 1 || ow < 1) {
    const bool h = oh < 1;
    throw_range(op, ": output ", h ? "height" : "width", " would be ", h ? oh : ow, " (< 1): (input ", h ? s.in_h : s.in_w,
                " + 2 * padding ", h ? s.pad_h : s.pad_w, " - dilation ", h ? s.dilation_h : s.dilation_w, " * (kernel ",
                h ? s.kernel_h : s.kernel_w, " - 1) - 1) / stride ", h ? s.stride_h : s.stride_w,
                " + 1; use a larger input or padding, or a smaller kernel or dilation");
  }
  r.dtype = x0->dtype;
  return r;
}

// The ABI's view of a shape (in_channels points into s, which must outlive it).
MpfConv2d cuda_shape(const cpu::Conv2dShape& s) {
  return MpfConv2d{s.batch,    s.in_h,  s.in_w,  s.out_channels, s.kernel_h,     s.kernel_w,     s.stride_h, s.stride_w,
                   s.pad_h,    s.pad_w, s.dilation_h, s.dilation_w, s.out_h(), s.out_w(), int32_t(s.in_channels.size()),
                   s.in_channels.data(), MPF_ACT_NONE};
}

std::vector<const void*> cuda_ptrs(const std::vector<TensorRef>& xs) {
  std::vector<const void*> out;
  for (const TensorRef& x : xs) out.push_back(dptr(x));
  return out;
}

template <typename T>
std::vector<const T*> ptrs(const std::vector<TensorRef>& xs) {
  std::vector<const T*> out;
  for (const TensorRef& x : xs) out.push_back(x->data<T>());
  return out;
}

// The forward pass behind conv2dForward and conv2dForwardMeans; m (batch, out): the mean of each
// output plane, made only when `means` is set.
struct ForwardOut {
  TensorRef y, m;
};
ForwardOut conv_forward(const Napi::CallbackInfo& info, const char* op, bool means) {
  Args a(info, op);
  Device dev = a.device(0);
  ConvArgs c = read_conv_args(a, info, dev, 3, 4);
  cpu::Conv2dActivation act = cpu::Conv2dActivation::None;
  if (!a.is_nullish(7)) {
    const std::string name = a.string(7, "activation");
    if (!cpu::parse_conv2d_activation(name.c_str(), &act))
      throw_range(op, ": 'activation' must be 'none' or 'selu', got '", name, "'");
  }
  require_device(op, dev);
  const cpu::Conv2dShape& s = c.shape;
  TensorRef y = new_tensor(dev, c.dtype, {s.batch, s.out_channels, s.out_h(), s.out_w()});
  TensorRef m = means ? new_tensor(dev, c.dtype, {s.batch, s.out_channels}) : TensorRef();
  if (dev == Device::CUDA) {
    MpfConv2d cs = cuda_shape(s);
    // Bias and SELU are the plugin's epilogue: its own kernels apply them to the accumulators, the
    // cuDNN path in one pass after the convolution (was a bias pass, a temporary and a SELU pass).
    cs.activation = act == cpu::Conv2dActivation::Selu ? MPF_ACT_SELU : MPF_ACT_NONE;
    const MpfCudaApi& api = cuda_api(op);
    cuda_call(op, api.conv2d_forward(cuda_dtype(c.dtype), &cs, cuda_ptrs(c.xs).data(), dptr(c.w), dptr(c.b), dptr(y)));
    // The means by squeeze-excitation's pooling kernel (a pass over y).
    if (means) cuda_call(op, api.se_pool(cuda_dtype(c.dtype), dptr(y), dptr(m), s.batch, s.out_channels, s.out_h() * s.out_w()));
  } else if (c.dtype == DType::F32)
    cpu::conv2d_forward<float>(s, ptrs<float>(c.xs), c.w->f32(), c.b ? c.b->f32() : nullptr, y->f32(), act, means ? m->f32() : nullptr);
  else
    cpu::conv2d_forward<double>(s, ptrs<double>(c.xs), c.w->f64(), c.b ? c.b->f64() : nullptr, y->f64(), act, means ? m->f64() : nullptr);
  return {y, m};
}

// conv2dBackward's CPU passes, for float or double: the input gradients wanted (gxs entries may be
// null; with none, any_input false, the pass is skipped), the weight gradient (with the bias
// gradient summed inside it) or the bias gradient alone.
template <typename T>
void backward_cpu(const ConvArgs& c, const TensorRef& gy, const std::vector<TensorRef>& gxs, bool any_input, const TensorRef& gw,
                  const TensorRef& gb) {
  const cpu::Conv2dShape& s = c.shape;
  if (any_input) {
    std::vector<T*> p;
    for (const TensorRef& g : gxs) p.push_back(g ? g->data<T>() : nullptr);
    cpu::conv2d_backward_data<T>(s, c.w->data<T>(), gy->data<T>(), p);
  }
  if (gw) cpu::conv2d_backward_weight<T>(s, ptrs<T>(c.xs), gy->data<T>(), gw->data<T>(), gb ? gb->data<T>() : nullptr);
  else if (gb) cpu::conv2d_backward_bias<T>(s, gy->data<T>(), gb->data<T>());
}

}  // namespace

// conv2dForward(device, xs, weight, bias | null, stride[2], padding[2], dilation[2], activation?) -> y
// activation: 'none' (also null / undefined) or 'selu', fused into the output (cpu/conv2d.h).
MPF_BINDING(conv2dForward) { return handle_value(info.Env(), conv_forward(info, "conv2d", false).y); }

// conv2dForwardMeans(device, xs, weight, bias | null, stride[2], padding[2], dilation[2], activation?)
//   -> {y, m}: conv2dForward's y and the mean of each output plane, m (batch, out), for the
// squeeze-excitation that follows (on the CPU summed while the output is in cache).
MPF_BINDING(conv2dForwardMeans) {
  ForwardOut r = conv_forward(info, "conv2d", true);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("y", handle_value(env, r.y));
  o.Set("m", handle_value(env, r.m));
  return o;
}

// conv2dBackward(device, xs, weight, gy, stride, padding, dilation, needInput, needWeight, needBias)
//   -> {gxs: (handle | null)[] | null, gw: handle | null, gb: handle | null}
// needInput: a boolean for every part, or an array with one boolean per part.
MPF_BINDING(conv2dBackward) {
  Args a(info, "conv2dBackward");
  Device dev = a.device(0);
  ConvArgs c = read_conv_args(a, info, dev, -1, 4);
  TensorRef gy = a.tensor(3, "gy");
  const cpu::Conv2dShape& s = c.shape;
  const char* op = "conv2dBackward";
  check_device(op, "gy", gy, dev);
  check_dtype(op, "gy", gy, c.dtype);
  const Shape want{s.batch, s.out_channels, s.out_h(), s.out_w()};
  if (gy->shape != want) throw_range(op, ": 'gy' has shape ", shape_str(gy->shape), " but the output's shape is ", shape_str(want));

  std::vector<bool> need_input(c.xs.size());
  if (!a.is_nullish(7) && info[7].IsArray()) {
    Napi::Array arr = info[7].As<Napi::Array>();
    if (arr.Length() != c.xs.size())
      throw_range(op, ": 'needInput' has ", arr.Length(), " entries but there are ", c.xs.size(), " input parts");
    for (uint32_t j = 0; j < arr.Length(); ++j) {
      if (!arr.Get(j).IsBoolean()) throw_type(op, ": 'needInput[", j, "]' must be a boolean");
      need_input[j] = arr.Get(j).As<Napi::Boolean>().Value();
    }
  } else {
    std::fill(need_input.begin(), need_input.end(), a.boolean(7, "needInput"));
  }
  const bool need_w = a.boolean(8, "needWeight"), need_b = a.boolean(9, "needBias");
  require_device(op, dev);

  // Compute everything first and register handles last, so a failure part-way leaks nothing.
  std::vector<TensorRef> gxs(c.xs.size());
  bool any_input = false;
  for (size_t j = 0; j < c.xs.size(); ++j)
    if (need_input[j]) {
      gxs[j] = new_tensor(dev, c.dtype, c.xs[j]->shape);
      any_input = true;
    }
  TensorRef gw = need_w ? new_tensor(dev, c.dtype, c.w->shape) : nullptr;
  TensorRef gb = need_b ? new_tensor(dev, c.dtype, {s.out_channels}) : nullptr;
  if (dev == Device::CUDA) {
    const MpfCudaApi& api = cuda_api(op);
    const MpfConv2d cs = cuda_shape(s);
    const int32_t dt = cuda_dtype(c.dtype);
    if (any_input) {
      std::vector<void*> p;
      for (auto& g : gxs) p.push_back(dptr(g));
      cuda_call(op, api.conv2d_backward_data(dt, &cs, dptr(c.w), dptr(gy), p.data()));
    }
    if (gw) cuda_call(op, api.conv2d_backward_weight(dt, &cs, cuda_ptrs(c.xs).data(), dptr(gy), dptr(gw)));
    if (gb) cuda_call(op, api.conv2d_backward_bias(dt, &cs, dptr(gy), dptr(gb)));
  } else if (c.dtype == DType::F32) {
    backward_cpu<float>(c, gy, gxs, any_input, gw, gb);
  } else {
    backward_cpu<double>(c, gy, gxs, any_input, gw, gb);
  }

  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  if (any_input) {
    Napi::Array arr = Napi::Array::New(env, gxs.size());
    for (size_t j = 0; j < gxs.size(); ++j) arr.Set(uint32_t(j), gxs[j] ? handle_value(env, gxs[j]) : env.Null());
    out.Set("gxs", arr);
  } else {
    out.Set("gxs", env.Null());
  }
  out.Set("gw", gw ? handle_value(env, gw) : env.Null());
  out.Set("gb", gb ? handle_value(env, gb) : env.Null());
  return out;
}

// conv2dAlgo(mode?) -> the mode before the call ('auto' | 'gemm' | 'winograd' | 'winograd2' | 'winograd6' | 'winograd8' |
// 'lattice' | 'direct').
// With a mode, sets how every later conv2d picks its algorithm (cpu/conv2d.h, conv2d_algo).
MPF_BINDING(conv2dAlgo) {
  Args a(info, "conv2dAlgo");
  const cpu::Conv2dAlgoMode before = cpu::conv2d_algo_mode();
  if (!a.is_nullish(0)) {
    const std::string name = a.string(0, "mode");
    cpu::Conv2dAlgoMode m;
    if (!cpu::parse_conv2d_algo_mode(name.c_str(), &m))
      throw_range("conv2dAlgo: 'mode' must be auto, gemm, winograd, winograd2, winograd6, winograd8, lattice or direct, got '", name, "'");
    cpu::set_conv2d_algo_mode(m);
  }
  return Napi::String::New(info.Env(), cpu::conv2d_algo_mode_name(before));
}

namespace {

// The scales of every input channel, ones for parts without, folded into a copy of w.
template <typename T>
void fold_scales(const TensorRef& w, const std::vector<TensorRef>& parts, const std::vector<int64_t>& widths,
                 const TensorRef& out, int64_t taps) {
  std::vector<T> s(size_t(w->shape[1]), T(1));
  size_t at = 0;
  for (size_t j = 0; j < parts.size(); at += size_t(widths[j]), ++j)
    if (parts[j]) std::copy(parts[j]->data<T>(), parts[j]->data<T>() + widths[j], s.begin() + std::ptrdiff_t(at));
  cpu::conv2d_fold_input_scales<T>(w->data<T>(), s.data(), out->data<T>(), w->shape[0], w->shape[1], taps);
}

}  // namespace

// conv2dFoldInputScales(device, w, scales) -> handle: w (out, in, kh, kw) with its input channels
// scaled, w · s, where scales lists one entry per input part in order, each a (1, C_j) tensor or
// {channels: C_j} for a part without a scale (ones), the C_j adding up to in (CPU).
MPF_BINDING(conv2dFoldInputScales) {
  Args a(info, "conv2dFoldInputScales");
  const char* op = a.op();
  Device dev = a.device(0);
  if (dev != Device::CPU) throw_type(op, ": for CPU tensors only");
  TensorRef w = a.tensor(1, "weight");
  check_rank(op, "weight", w, 4, "(out, in, kh, kw)");
  if (a.is_nullish(2) || !info[2].IsArray()) throw_type(op, ": 'scales' must be an array");
  Napi::Array arr = info[2].As<Napi::Array>();
  const int64_t in = w->shape[1];
  std::vector<TensorRef> parts;  // nullptr: a part of ones
  std::vector<int64_t> widths;
  int64_t total = 0;
  for (uint32_t j = 0; j < arr.Length(); ++j) {
    Napi::Value v = arr.Get(j);
    const std::string name = str("scales[", j, "]");
    if (v.IsNumber()) {
      const double d = v.As<Napi::Number>().DoubleValue();
      if (!(d >= 1 && d < 4294967296.0) || d != double(uint32_t(d))) throw_type(op, ": '", name, "' is not a tensor handle");
      const TensorRef t = handle_get(HandleId(d), op, name.c_str());
      check_device(op, name.c_str(), t, dev);
      check_dtype(op, name.c_str(), t, w->dtype);
      if (t->shape.size() != 2 || t->shape[0] != 1) throw_range(op, ": '", name, "' must have shape [1, C], got ", shape_str(t->shape));
      parts.push_back(t);
      widths.push_back(t->shape[1]);
    } else if (v.IsObject() && v.As<Napi::Object>().Get("channels").IsNumber()) {
      const double c = v.As<Napi::Object>().Get("channels").As<Napi::Number>().DoubleValue();
      if (!(c >= 1 && c <= double(in)) || c != double(int64_t(c))) throw_range(op, ": '", name, ".channels' must be an integer in [1, ", in, "], got ", c);
      parts.push_back(nullptr);
      widths.push_back(int64_t(c));
    } else {
      throw_type(op, ": '", name, "' must be a tensor handle or {channels}");
    }
    total += widths.back();
  }
  if (total != in) throw_range(op, ": the scales cover ", total, " input channels but 'weight' ", shape_str(w->shape), " has ", in);
  TensorRef out = new_tensor(dev, w->dtype, w->shape);
  const int64_t taps = w->shape[2] * w->shape[3];
  if (w->dtype == DType::F32) fold_scales<float>(w, parts, widths, out, taps);
  else fold_scales<double>(w, parts, widths, out, taps);
  return handle_value(info.Env(), out);
}

}  // namespace mpf
