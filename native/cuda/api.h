/* The C ABI between the addon (native/addon/cuda_plugin.cc) and the CUDA plugin (libmpfnet_cuda.so).
 *
 * The addon never links CUDA: it dlopens the plugin on first use of device 'cuda' and calls
 * mpf_cuda_api(MPF_CUDA_ABI_VERSION) for this table. Only C types cross the boundary (the addon
 * links libstdc++ statically, the plugin dynamically, so no C++ object or exception may pass):
 * raw device pointers, dims, and an error string. Every entry point returns NULL on success or a
 * message (valid until the next call on the same thread) that the addon turns into a JS error.
 *
 * The entry points mirror native/cpu/<family>.h, with the dtype as an argument (MPF_F32 / MPF_F64)
 * and void pointers. All work is queued on the plugin's one stream, in call order; copies to host
 * memory wait for it. Bump MPF_CUDA_ABI_VERSION on any change to this file.
 */
#ifndef MPF_CUDA_API_H
#define MPF_CUDA_API_H

#include <stddef.h>
#include <stdint.h>

#define MPF_CUDA_ABI_VERSION 5
#define MPF_CUDA_MAX_RANK 8

#ifdef __cplusplus
extern "C" {
#endif

typedef const char* MpfErr;

enum { MPF_F32 = 0, MPF_F64 = 1 };

/* Messages of allocation failures start with this, so the addon raises a RangeError as for CPU. */
#define MPF_CUDA_OOM_PREFIX "CUDA out of memory"

typedef struct MpfCudaInfo {
  char device[256];     /* e.g. "NVIDIA H100 80GB HBM3" */
  int32_t index;        /* the device used (0 of the visible ones) */
  int32_t cc_major, cc_minor;
  int32_t multiprocessors;
  int64_t total_memory; /* bytes */
  int32_t driver_version;  /* cudaDriverGetVersion, e.g. 13000 */
  int32_t runtime_version; /* cudaRuntimeGetVersion */
  int32_t cudnn_version;   /* cudnnGetVersion(), 0 when cuDNN is not in use */
  char cudnn_note[512];    /* "" or why cuDNN is not in use (not built in, not loadable, ...) */
  int32_t reserved[8];
} MpfCudaInfo;

typedef struct MpfCudaMemory {
  int64_t allocated; /* bytes in blocks handed out (rounded to size classes) */
  int64_t cached;    /* bytes in freed blocks kept for reuse */
  int64_t device_free, device_total; /* cudaMemGetInfo */
  int64_t mallocs;   /* cudaMalloc calls so far (a cache miss each) */
} MpfCudaMemory;

typedef struct MpfCudaOptions {
  int32_t allow_tf32;  /* convolutions may use TF32 tensor cores (default 0: full fp32) */
  int32_t conv_engine; /* 0: cuDNN when built with it, else own kernels; 1: own kernels */
  int32_t sync_each;   /* synchronise after every op, so an error names the op that caused it */
  int32_t reserved[5];
} MpfCudaOptions;

/* A row-major walk over an output shape with one element stride per operand (0 where broadcast):
 * common/broadcast.h's StridedPlan, coalesced by the addon. */
typedef struct MpfStrided {
  int32_t rank;
  int64_t size[MPF_CUDA_MAX_RANK];
  int64_t stride[4][MPF_CUDA_MAX_RANK];
} MpfStrided;

/* A sum over some dims of x: output element o (row-major over the kept dims) sums x over the
 * reduced dims. Strides are x's element strides. Each group is coalesced; rank 0 means none. */
typedef struct MpfReducePlan {
  int32_t out_rank, red_rank;
  int64_t out_size[MPF_CUDA_MAX_RANK], out_stride[MPF_CUDA_MAX_RANK];
  int64_t red_size[MPF_CUDA_MAX_RANK], red_stride[MPF_CUDA_MAX_RANK];
} MpfReducePlan;

typedef struct MpfPool2d { /* cpu::Pool2dGeometry / MaxPool2dGeometry */
  int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
} MpfPool2d;

typedef struct MpfConv2d { /* cpu::Conv2dShape; in_channels is a host array of `parts` entries */
  int64_t batch, in_h, in_w, out_channels, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  int64_t out_h, out_w;
  int32_t parts;
  const int64_t* in_channels;
  int32_t activation; /* forward only: MPF_ACT_NONE, or MPF_ACT_SELU applied after the bias in the epilogue */
} MpfConv2d;

enum { MPF_ACT_NONE = 0, MPF_ACT_SELU = 1 };

typedef struct MpfAdam { /* cpu::AdamHyper */
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;
  int32_t decoupled;
} MpfAdam;

typedef struct MpfSqueezeExcite { /* cpu::SqueezeExcite: x (n, c, hw); w1 (hidden, c), w2 (c, hidden); biases may be NULL */
  int64_t n, c, hidden, hw;
  const void *w1, *b1, *w2, *b2;
} MpfSqueezeExcite;

typedef struct MpfCudaApi {
  int32_t abi_version;
  /* Select the device, create the stream and library handles. Safe to call again. */
  MpfErr (*init)(MpfCudaInfo* info);
  MpfErr (*set_options)(const MpfCudaOptions* o);
  MpfErr (*get_options)(MpfCudaOptions* o);
  MpfErr (*synchronize)(void);

  /* memory: the caching allocator */
  MpfErr (*alloc)(size_t bytes, void** out);
  void (*free)(void* p, size_t bytes);
  MpfErr (*memory)(MpfCudaMemory* m);
  MpfErr (*empty_cache)(void);

  /* copies; copy_2d: `height` rows of `width` bytes; src NULL writes zeros */
  MpfErr (*memset)(void* p, int value, size_t bytes);
  MpfErr (*copy_h2d)(void* dst, const void* src, size_t bytes);
  MpfErr (*copy_d2h)(void* dst, const void* src, size_t bytes);
  MpfErr (*copy_d2d)(void* dst, const void* src, size_t bytes);
  MpfErr (*copy_2d)(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height);

  /* tensor creation */
  MpfErr (*fill)(int32_t dt, void* y, int64_t n, double v);
  MpfErr (*cast)(int32_t src_dt, const void* x, int32_t dst_dt, void* y, int64_t n);
  /* y[i] = p + (q - p) * uniform01(seed, offset + i), or p + q * normal01(...) when normal */
  MpfErr (*rand)(int32_t dt, void* y, int64_t n, uint64_t seed, uint64_t offset, double p, double q, int32_t normal);

  /* unary (op: common/unary_math.h UnaryOp); x or y may be NULL when the backward does not read it */
  MpfErr (*unary_forward)(int32_t op, int32_t dt, const void* x, void* y, int64_t n, double p0, double p1);
  MpfErr (*unary_backward)(int32_t op, int32_t dt, const void* x, const void* y, const void* gy, void* gx, int64_t n,
                           double p0, double p1);

  /* binary (op: common/binary_math.h BinaryOp). plan: over y, operands a (0) and b (1). */
  MpfErr (*binary_forward)(int32_t op, int32_t dt, const void* a, const void* b, void* y, const MpfStrided* plan);
  /* g (contiguous over y's shape) = the gradient of input `which` before any broadcast reduction.
   * plan: over y, operands a (0) and b (1); gy is contiguous. */
  MpfErr (*binary_grad)(int32_t op, int32_t which, int32_t dt, const void* a, const void* b, const void* gy, void* g,
                        const MpfStrided* plan);
  MpfErr (*binary_backward_both)(int32_t op, int32_t dt, const void* a, const void* b, const void* gy, void* ga, void* gb,
                                 int64_t n);

  /* reductions */
  MpfErr (*sum_reduce)(int32_t dt, const void* x, void* y, const MpfReducePlan* plan, double scale);
  /* y (contiguous over plan) = scale * x read with stride[0] (0 along broadcast dims) */
  MpfErr (*broadcast)(int32_t dt, const void* x, void* y, const MpfStrided* plan, double scale);
  MpfErr (*logsumexp_forward)(int32_t dt, const void* x, void* y, int64_t outer, int64_t d, int64_t inner);
  MpfErr (*logsumexp_backward)(int32_t dt, const void* x, const void* y, const void* gy, void* gx, int64_t outer,
                               int64_t d, int64_t inner);

  /* shape: pixel_shuffle (inverse 0) y (n, c, h*r, w*r) from x (n, c*r*r, h, w); inverse 1 the other way */
  MpfErr (*pixel_shuffle)(int32_t dt, const void* x, void* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t r,
                          int32_t inverse);

  /* loss: y[0] = scale * sum |p - t|; backward g = gy[0] * scale * sign(p - t), gt = -gp; NULL skips */
  MpfErr (*l1_loss)(int32_t dt, const void* p, const void* t, int64_t n, void* y, double scale);
  MpfErr (*l1_backward)(int32_t dt, const void* p, const void* t, const void* gy, double scale, void* gp, void* gt,
                        int64_t n);

  /* pooling */
  MpfErr (*avg_pool2d_forward)(int32_t dt, const void* x, void* y, const MpfPool2d* g);
  MpfErr (*avg_pool2d_backward)(int32_t dt, const void* gy, void* gx, const MpfPool2d* g);
  MpfErr (*max_pool2d_forward)(int32_t dt, const void* x, void* y, const MpfPool2d* g);
  MpfErr (*max_pool2d_backward)(int32_t dt, const void* x, const void* gy, void* gx, const MpfPool2d* g);

  /* optimiser and accumulation, in place */
  MpfErr (*adam_update)(int32_t dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq, int64_t n,
                        const MpfAdam* h);
  MpfErr (*axpy)(int32_t dt, void* y, const void* x, double alpha, int64_t n);

  /* resize: a CSR matrix (host arrays) applied along the middle axis of x (outer, cols, inner) */
  MpfErr (*resize_apply)(int32_t dt, const int64_t* row_start, const int64_t* col, const double* weight, int64_t rows,
                         int64_t cols, const void* x, void* y, int64_t outer, int64_t inner);

  /* degradations (cpu/degrade.h); sigma and grey are host arrays, one entry per image */
  MpfErr (*filter2d)(int32_t dt, const void* x, const void* k, void* y, int64_t n, int64_t c, int64_t h, int64_t w,
                     int64_t kn, int64_t kh, int64_t kw, int32_t backward);
  MpfErr (*gaussian_noise)(int32_t dt, const void* x, void* y, int64_t n, int64_t c, int64_t hw, const double* sigma,
                           const uint8_t* grey, uint64_t seed, uint64_t offset, int32_t clip);

  /* matrix products (cpu/matmul.h); NULL outputs are skipped */
  MpfErr (*matmul_forward)(int32_t dt, int64_t M, int64_t K, int64_t N, const void* a, const void* b, void* c);
  MpfErr (*matmul_backward)(int32_t dt, int64_t M, int64_t K, int64_t N, const void* a, const void* b, const void* gc,
                            void* ga, void* gb);
  MpfErr (*linear_forward)(int32_t dt, int64_t rows, int64_t in, int64_t out, const void* x, const void* w,
                           const void* bias, void* y);
  MpfErr (*linear_backward)(int32_t dt, int64_t rows, int64_t in, int64_t out, const void* x, const void* w,
                            const void* gy, void* gx, void* gw, void* gbias);

  /* convolution (cpu/conv2d.h) over a channel concatenation of s->parts inputs; NULL gxs[j] skips */
  MpfErr (*conv2d_forward)(int32_t dt, const MpfConv2d* s, const void* const* xs, const void* w, const void* b, void* y);
  MpfErr (*conv2d_backward_data)(int32_t dt, const MpfConv2d* s, const void* w, const void* gy, void* const* gxs);
  MpfErr (*conv2d_backward_weight)(int32_t dt, const MpfConv2d* s, const void* const* xs, const void* gy, void* gw);
  MpfErr (*conv2d_backward_bias)(int32_t dt, const MpfConv2d* s, const void* gy, void* gb);
  /* which engine and algorithms the last conv2d call of each pass used (for reports) */
  const char* (*conv2d_engine)(void);

  /* contrastive regularisation (cpu/cr_samples.h, cpu/cr_similarity.h); source, keep, factor, sigma
   * and index are host arrays */
  MpfErr (*cr_samples)(int32_t dt, const void* x, const void* k, void* y, int64_t c, int64_t h, int64_t w, int64_t m,
                       int64_t kh, int64_t kw, const int64_t* source, const int64_t* keep, const double* factor,
                       const double* sigma, uint64_t seed, uint64_t offset, int32_t clip);
  MpfErr (*cr_similarity_forward)(int32_t dt, const void* a, const void* b, const int64_t* index, void* s, int64_t m,
                                  int64_t c, int64_t hw, double eps);
  MpfErr (*cr_similarity_backward)(int32_t dt, const void* a, const void* b, const int64_t* index, const void* gs, void* ga,
                                   void* gb, int64_t n, int64_t m, int64_t c, int64_t hw, double eps);

  /* fused squeeze-excitation (cpu/squeeze_excite.h): m (n, c) = mean of x over hw (one launch);
   * y = x * sigmoid(fc2(relu(fc1(m)))) per channel (one launch); the backward (three launches) needs
   * scratch of n * (3c + 2 hidden) elements; NULL gradients are skipped */
  MpfErr (*se_pool)(int32_t dt, const void* x, void* m, int64_t n, int64_t c, int64_t hw);
  MpfErr (*se_excite)(int32_t dt, const MpfSqueezeExcite* s, const void* x, const void* m, void* y);
  MpfErr (*se_backward)(int32_t dt, const MpfSqueezeExcite* s, const void* x, const void* m, const void* gy, void* gx,
                        void* gw1, void* gb1, void* gw2, void* gb2, void* scratch);

  /* CUDA graphs (graph.cu): graph_begin starts capturing the stream (every later call is recorded,
   * not run); graph_end stops and instantiates it (*id > 0), or fails with the reason and discards
   * the capture; graph_launch replays it; graph_destroy frees it. Every block the capture allocates or
   * frees stays reserved for the graph until graph_destroy, since a replay writes to those addresses. */
  MpfErr (*graph_begin)(void);
  MpfErr (*graph_end)(int64_t* id);
  MpfErr (*graph_launch)(int64_t id);
  MpfErr (*graph_destroy)(int64_t id);
} MpfCudaApi;

/* The plugin's one exported symbol: NULL when it was built for another ABI version. */
typedef const MpfCudaApi* (*MpfCudaApiFn)(int32_t abi_version);
#define MPF_CUDA_API_SYMBOL "mpf_cuda_api"

#ifdef __cplusplus
}
#endif

#endif /* MPF_CUDA_API_H */
