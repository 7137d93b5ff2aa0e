// Bindings of the shape ops: reshape (a view), cat, split, pixel (un)shuffle (kernels: cpu/shape.cc).
#include <cstring>

#include "addon/args.h"
#include "addon/device.h"
#include "addon/handles.h"
#include "addon/registry.h"
#include "cpu/shape.h"

namespace mpf {
namespace {

// Product of shape[0..dim) and shape(dim..]: the (outer, size, inner) view of a cat / split.
void outer_inner(const Shape& s, int64_t dim, int64_t& outer, int64_t& inner) {
  outer = inner = 1;
  for (int64_t k = 0; k < int64_t(s.size()); ++k) {
    if (k < dim) outer *= s[size_t(k)];
    else if (k > dim) inner *= s[size_t(k)];
  }
}

int64_t norm_dim(const Args& a, size_t i, int64_t rank) {
  const int64_t d = a.integer(i, "dim", -rank, rank - 1);
  return d < 0 ? d + rank : d;
}

template <typename T>
std::vector<cpu::Piece<T>> pieces_of(const std::vector<TensorRef>& ts, int64_t dim) {
  std::vector<cpu::Piece<T>> ps;
  for (const auto& t : ts) ps.push_back({t ? t->data<T>() : nullptr, t ? t->shape[size_t(dim)] : 0});
  return ps;
}

// cat (to_big) or split (!to_big) on the GPU: each piece (outer rows of size·inner elements) is a
// strided 2-D copy into or out of `big` (outer rows of total·inner). A null piece of a cat is zeros.
void cuda_pieces(const char* op, const std::vector<std::pair<void*, int64_t>>& pieces, void* big, int64_t outer,
                 int64_t inner, size_t esz, bool to_big) {
  const MpfCudaApi& api = cuda_api(op);
  int64_t total = 0;
  for (auto& pc : pieces) total += pc.second;
  const size_t big_pitch = size_t(total * inner) * esz;
  int64_t at = 0;
  for (auto& [data, size] : pieces) {
    const size_t row = size_t(size * inner) * esz;
    char* b = static_cast<char*>(big) + size_t(at * inner) * esz;
    if (to_big) cuda_call(op, api.copy_2d(b, big_pitch, data, row, row, size_t(outer)));
    else cuda_call(op, api.copy_2d(data, row, b, big_pitch, row, size_t(outer)));
    at += size;
  }
}

std::vector<std::pair<void*, int64_t>> cuda_piece_list(const std::vector<TensorRef>& ts, int64_t dim) {
  std::vector<std::pair<void*, int64_t>> ps;
  for (const auto& t : ts) ps.push_back({dptr(t), t->shape[size_t(dim)]});
  return ps;
}

}  // namespace

// reshape(device, x, shape, copy) -> y with x's data in a new shape; one entry of shape may be -1
// (inferred). copy = false: a view sharing x's storage; true: its own storage.
MPF_BINDING(reshape) {
  Args a(info, "reshape");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  std::vector<int64_t> s = a.ints(2, "shape", 0, -1, kMaxTensorBytes);
  const bool copy = a.boolean(3, "copy");
  check_uniform("reshape", dev, {{"x", &x}});
  if (s.empty() || int64_t(s.size()) > kMaxRank)
    throw_range("reshape: 'shape' must have 1 to ", kMaxRank, " entries, got ", s.size());
  int64_t known = 1, infer = -1;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == 0) throw_range("reshape: 'shape[", k, "]' is 0; tensors must not be empty");
    if (s[k] == -1) {
      if (infer >= 0) throw_range("reshape: 'shape' ", shape_str(s), " has more than one -1");
      infer = int64_t(k);
    } else {
      if (known > kMaxTensorBytes / s[k])
        throw_range("reshape: 'shape' ", shape_str(s), " has more than ", kMaxTensorBytes, " elements");
      known *= s[k];
    }
  }
  const int64_t n = x->numel();
  if (infer >= 0) {
    if (n % known != 0)
      throw_range("reshape: cannot reshape x of shape ", shape_str(x->shape), " (", n, " elements) to ", shape_str(s));
    s[size_t(infer)] = n / known;
  }
  if (shape_numel(s) != n)
    throw_range("reshape: cannot reshape x of shape ", shape_str(x->shape), " (", n, " elements) to ", shape_str(s));
  if (!copy) return handle_value(info.Env(), view_tensor(x, s));
  require_device("reshape", dev);
  TensorRef y = new_tensor(dev, x->dtype, s);
  if (dev == Device::CUDA) cuda_call("reshape", cuda_api("reshape").copy_d2d(dptr(y), dptr(x), x->nbytes()));
  else std::memcpy(y->storage->data, x->storage->data, x->nbytes());
  return handle_value(info.Env(), y);
}

// cat(device, xs, dim) -> y: the tensors side by side along dim (all other dims equal)
MPF_BINDING(cat) {
  Args a(info, "cat");
  Device dev = a.device(0);
  std::vector<TensorRef> xs = a.tensors(1, "xs");
  const TensorRef& x0 = xs[0];
  const int64_t dim = norm_dim(a, 2, x0->rank());
  Shape out = x0->shape;
  out[size_t(dim)] = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    const std::string nm = str("xs[", k, "]");
    check_device("cat", nm.c_str(), xs[k], dev);
    check_dtype("cat", nm.c_str(), xs[k], x0->dtype);
    bool same = xs[k]->rank() == x0->rank();
    for (size_t d = 0; same && d < out.size(); ++d) same = int64_t(d) == dim || xs[k]->shape[d] == x0->shape[d];
    if (!same)
      throw_range("cat: '", nm, "' has shape ", shape_str(xs[k]->shape), " but xs[0] has ", shape_str(x0->shape),
                  "; all dims but dim ", dim, " must match");
    out[size_t(dim)] += xs[k]->shape[size_t(dim)];
  }
  require_device("cat", dev);
  TensorRef y = new_tensor(dev, x0->dtype, out);
  int64_t outer, inner;
  outer_inner(out, dim, outer, inner);
  if (dev == Device::CUDA) cuda_pieces("cat", cuda_piece_list(xs, dim), dptr(y), outer, inner, dtype_size(y->dtype), true);
  else if (y->dtype == DType::F32) cpu::cat_pieces(pieces_of<float>(xs, dim), y->f32(), outer, inner);
  else cpu::cat_pieces(pieces_of<double>(xs, dim), y->f64(), outer, inner);
  return handle_value(info.Env(), y);
}

// split(device, x, sizes, dim) -> [handles]: consecutive pieces along dim with the given sizes
// (which must add up to x's size along dim)
MPF_BINDING(split) {
  Args a(info, "split");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  const std::vector<int64_t> sizes = a.ints(2, "sizes", 0, 1, kMaxTensorBytes);
  check_uniform("split", dev, {{"x", &x}});
  const int64_t dim = norm_dim(a, 3, x->rank());
  if (sizes.empty()) throw_range("split: 'sizes' must not be empty");
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  if (total != x->shape[size_t(dim)])
    throw_range("split: 'sizes' ", shape_str(sizes), " add up to ", total, " but x has ", x->shape[size_t(dim)],
                " along dim ", dim, " (shape ", shape_str(x->shape), ")");
  require_device("split", dev);
  std::vector<TensorRef> outs;
  for (int64_t s : sizes) {
    Shape sh = x->shape;
    sh[size_t(dim)] = s;
    outs.push_back(new_tensor(dev, x->dtype, sh));
  }
  int64_t outer, inner;
  outer_inner(x->shape, dim, outer, inner);
  if (dev == Device::CUDA) cuda_pieces("split", cuda_piece_list(outs, dim), dptr(x), outer, inner, dtype_size(x->dtype), false);
  else if (x->dtype == DType::F32) cpu::split_pieces(x->f32(), pieces_of<float>(outs, dim), outer, inner);
  else cpu::split_pieces(x->f64(), pieces_of<double>(outs, dim), outer, inner);
  Napi::Env env = info.Env();
  Napi::Array r = Napi::Array::New(env, outs.size());
  for (size_t k = 0; k < outs.size(); ++k) r.Set(uint32_t(k), handle_value(env, outs[k]));
  return r;
}

// splitBackward(device, gy, xShape, dim, offset) -> gx of shape xShape: zeros, with gy placed at
// [offset, offset + gy.shape[dim]) along dim (the gradient of one split piece)
MPF_BINDING(splitBackward) {
  Args a(info, "split");
  Device dev = a.device(0);
  TensorRef gy = a.tensor(1, "gy");
  const Shape xs = a.shape(2, "xShape");
  check_uniform("split", dev, {{"gy", &gy}});
  const int64_t dim = norm_dim(a, 3, int64_t(xs.size()));
  const int64_t offset = a.integer(4, "offset", 0, xs[size_t(dim)] - 1);
  bool ok = gy->rank() == int64_t(xs.size()) && offset + gy->shape[size_t(dim)] <= xs[size_t(dim)];
  for (size_t d = 0; ok && d < xs.size(); ++d) ok = int64_t(d) == dim || gy->shape[d] == xs[d];
  if (!ok)
    throw_range("split: 'gy' of shape ", shape_str(gy->shape), " does not fit in ", shape_str(xs), " at offset ",
                offset, " along dim ", dim);
  require_device("split", dev);
  TensorRef gx = new_tensor(dev, gy->dtype, xs);
  const int64_t before = offset, after = xs[size_t(dim)] - offset - gy->shape[size_t(dim)];
  int64_t outer, inner;
  outer_inner(xs, dim, outer, inner);
  if (dev == Device::CUDA) {
    std::vector<std::pair<void*, int64_t>> ps;  // null data: zeros
    if (before) ps.push_back({nullptr, before});
    ps.push_back({dptr(gy), gy->shape[size_t(dim)]});
    if (after) ps.push_back({nullptr, after});
    cuda_pieces("split", ps, dptr(gx), outer, inner, dtype_size(gy->dtype), true);
    return handle_value(info.Env(), gx);
  }
  auto build = [&](auto tag) {
    using T = decltype(tag);
    std::vector<cpu::Piece<T>> ps;  // null data: zeros
    if (before) ps.push_back({nullptr, before});
    ps.push_back({gy->data<T>(), gy->shape[size_t(dim)]});
    if (after) ps.push_back({nullptr, after});
    cpu::cat_pieces(ps, gx->data<T>(), outer, inner);
  };
  if (gy->dtype == DType::F32) build(float{});
  else build(double{});
  return handle_value(info.Env(), gx);
}

// pixelShuffle(device, x, r) -> y: (N, C*r*r, H, W) -> (N, C, H*r, W*r)
MPF_BINDING(pixelShuffle) {
  Args a(info, "pixelShuffle");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  const int64_t r = a.integer(2, "r", 1, 1 << 16);
  check_uniform("pixelShuffle", dev, {{"x", &x}});
  check_rank("pixelShuffle", "x", x, 4, "(N, C*r*r, H, W)");
  const int64_t n = x->shape[0], cr = x->shape[1], h = x->shape[2], w = x->shape[3];
  if (cr % (r * r) != 0)
    throw_range("pixelShuffle: x has ", cr, " channels (shape ", shape_str(x->shape), "), not divisible by r*r = ", r * r);
  require_device("pixelShuffle", dev);
  TensorRef y = new_tensor(dev, x->dtype, {n, cr / (r * r), h * r, w * r});
  if (dev == Device::CUDA)
    cuda_call("pixelShuffle", cuda_api("pixelShuffle").pixel_shuffle(cuda_dtype(x->dtype), dptr(x), dptr(y), n, cr / (r * r), h, w, r, 0));
  else if (x->dtype == DType::F32) cpu::pixel_shuffle(x->f32(), y->f32(), n, cr / (r * r), h, w, r);
  else cpu::pixel_shuffle(x->f64(), y->f64(), n, cr / (r * r), h, w, r);
  return handle_value(info.Env(), y);
}

// pixelShuffleInto(device, x, r, out, channelOffset): out[:, c0 : c0 + C] = pixelShuffle(x, r), in
// place. Inference builds a large shuffled map from convolution chunks this way, so the whole
// pre-shuffle map never exists (lib/models/mpfnet/upsampler.ts). Not differentiable.
MPF_BINDING(pixelShuffleInto) {
  Args a(info, "pixelShuffleInto");
  Device dev = a.device(0);
  TensorRef x = a.tensor(1, "x");
  const int64_t r = a.integer(2, "r", 1, 1 << 16);
  TensorRef out = a.tensor(3, "out");
  check_uniform("pixelShuffleInto", dev, {{"x", &x}, {"out", &out}});
  check_rank("pixelShuffleInto", "x", x, 4, "(N, C*r*r, H, W)");
  check_rank("pixelShuffleInto", "out", out, 4, "(N, C_out, H*r, W*r)");
  const int64_t n = x->shape[0], cr = x->shape[1], h = x->shape[2], w = x->shape[3];
  if (cr % (r * r) != 0)
    throw_range("pixelShuffleInto: x has ", cr, " channels (shape ", shape_str(x->shape), "), not divisible by r*r = ", r * r);
  const int64_t c = cr / (r * r), c_out = out->shape[1];
  const int64_t c0 = a.integer(4, "channelOffset", 0, c_out);
  if (out->shape[0] != n || out->shape[2] != h * r || out->shape[3] != w * r || c0 + c > c_out)
    throw_range("pixelShuffleInto: out has shape ", shape_str(out->shape), "; shuffling x ", shape_str(x->shape), " by ", r,
                " at channel ", c0, " needs (", n, ", >= ", c0 + c, ", ", h * r, ", ", w * r, ")");
  require_device("pixelShuffleInto", dev);
  const int64_t in_item = cr * h * w, out_item = c_out * h * r * w * r, at = c0 * h * r * w * r;
  for (int64_t i = 0; i < n; ++i) {
    if (dev == Device::CUDA) {
      const size_t es = x->dtype == DType::F32 ? sizeof(float) : sizeof(double);
      const char* xs = static_cast<const char*>(dptr(x)) + size_t(i * in_item) * es;
      char* ys = static_cast<char*>(dptr(out)) + size_t(i * out_item + at) * es;
      cuda_call("pixelShuffleInto", cuda_api("pixelShuffleInto").pixel_shuffle(cuda_dtype(x->dtype), xs, ys, 1, c, h, w, r, 0));
    } else if (x->dtype == DType::F32) {
      cpu::pixel_shuffle(x->f32() + i * in_item, out->f32() + i * out_item + at, 1, c, h, w, r);
    } else {
      cpu::pixel_shuffle(x->f64() + i * in_item, out->f64() + i * out_item + at, 1, c, h, w, r);
    }
  }
  return info.Env().Undefined();
}

// pixelUnshuffle(device, y, r) -> x: (N, C, H*r, W*r) -> (N, C*r*r, H, W); the inverse of
// pixelShuffle and its backward
MPF_BINDING(pixelUnshuffle) {
  Args a(info, "pixelUnshuffle");
  Device dev = a.device(0);
  TensorRef y = a.tensor(1, "x");
  const int64_t r = a.integer(2, "r", 1, 1 << 16);
  check_uniform("pixelUnshuffle", dev, {{"x", &y}});
  check_rank("pixelUnshuffle", "x", y, 4, "(N, C, H*r, W*r)");
  const int64_t n = y->shape[0], c = y->shape[1], hr = y->shape[2], wr = y->shape[3];
  if (hr % r != 0 || wr % r != 0)
    throw_range("pixelUnshuffle: x's height and width (shape ", shape_str(y->shape), ") must be divisible by r = ", r);
  require_device("pixelUnshuffle", dev);
  TensorRef x = new_tensor(dev, y->dtype, {n, c * r * r, hr / r, wr / r});
  if (dev == Device::CUDA)
    cuda_call("pixelUnshuffle", cuda_api("pixelUnshuffle").pixel_shuffle(cuda_dtype(y->dtype), dptr(y), dptr(x), n, c, hr / r, wr / r, r, 1));
  else if (y->dtype == DType::F32) cpu::pixel_unshuffle(y->f32(), x->f32(), n, c, hr / r, wr / r, r);
  else cpu::pixel_unshuffle(y->f64(), x->f64(), n, c, hr / r, wr / r, r);
  return handle_value(info.Env(), x);
}

}  // namespace mpf
