// The plugin's entry points, one per MpfCudaApi member (api.h), defined in the .cu file of their
// family (the names of native/cpu) and collected into the table by context.cu.
#pragma once
#include "cuda/api.h"

namespace mpf::cuda {

// context.cu
MpfErr api_init(MpfCudaInfo* info);
MpfErr api_set_options(const MpfCudaOptions* o);
MpfErr api_get_options(MpfCudaOptions* o);
MpfErr api_synchronize();
MpfErr api_memset(void* p, int value, size_t bytes);
MpfErr api_copy_h2d(void* dst, const void* src, size_t bytes);
MpfErr api_copy_d2h(void* dst, const void* src, size_t bytes);
MpfErr api_copy_d2d(void* dst, const void* src, size_t bytes);
MpfErr api_copy_2d(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height);

// allocator.cu
MpfErr api_alloc(size_t bytes, void** out);
void api_free(void* p, size_t bytes);
MpfErr api_memory(MpfCudaMemory* m);
MpfErr api_empty_cache();
// The graph pools (graph.cu): while graph `id` is captured, every block allocated or freed is
// reserved for it; release hands its blocks back to the cache.
void allocator_capture(int64_t id);
void allocator_release_graph(int64_t id);

// graph.cu
bool capturing();
MpfErr graph_begin();
MpfErr graph_end(int64_t* id);
MpfErr graph_launch(int64_t id);
MpfErr graph_destroy(int64_t id);

// tensor.cu
MpfErr fill(int32_t dt, void* y, int64_t n, double v);
MpfErr cast(int32_t src_dt, const void* x, int32_t dst_dt, void* y, int64_t n);
MpfErr rand(int32_t dt, void* y, int64_t n, uint64_t seed, uint64_t offset, double p, double q, int32_t normal);

// unary.cu
MpfErr unary_forward(int32_t op, int32_t dt, const void* x, void* y, int64_t n, double p0, double p1);
MpfErr unary_backward(int32_t op, int32_t dt, const void* x, const void* y, const void* gy, void* gx, int64_t n, double p0,
                      double p1);

// binary.cu
MpfErr binary_forward(int32_t op, int32_t dt, const void* a, const void* b, void* y, const MpfStrided* plan);
MpfErr binary_grad(int32_t op, int32_t which, int32_t dt, const void* a, const void* b, const void* gy, void* g,
                   const MpfStrided* plan);
MpfErr binary_backward_both(int32_t op, int32_t dt, const void* a, const void* b, const void* gy, void* ga, void* gb,
                            int64_t n);

// reduce.cu
MpfErr sum_reduce(int32_t dt, const void* x, void* y, const MpfReducePlan* plan, double scale);
MpfErr broadcast(int32_t dt, const void* x, void* y, const MpfStrided* plan, double scale);
MpfErr logsumexp_forward(int32_t dt, const void* x, void* y, int64_t outer, int64_t d, int64_t inner);
MpfErr logsumexp_backward(int32_t dt, const void* x, const void* y, const void* gy, void* gx, int64_t outer, int64_t d,
                          int64_t inner);

// shape.cu
MpfErr pixel_shuffle(int32_t dt, const void* x, void* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t r,
                     int32_t inverse);

// loss.cu
MpfErr l1_loss(int32_t dt, const void* p, const void* t, int64_t n, void* y, double scale);
MpfErr l1_backward(int32_t dt, const void* p, const void* t, const void* gy, double scale, void* gp, void* gt, int64_t n);

// pool.cu, maxpool.cu
MpfErr avg_pool2d_forward(int32_t dt, const void* x, void* y, const MpfPool2d* g);
MpfErr avg_pool2d_backward(int32_t dt, const void* gy, void* gx, const MpfPool2d* g);
MpfErr max_pool2d_forward(int32_t dt, const void* x, void* y, const MpfPool2d* g);
MpfErr max_pool2d_backward(int32_t dt, const void* x, const void* gy, void* gx, const MpfPool2d* g);

// adam.cu, accumulate.cu
MpfErr adam_update(int32_t dt, void* param, const void* grad, void* exp_avg, void* exp_avg_sq, int64_t n, const MpfAdam* h);
MpfErr axpy(int32_t dt, void* y, const void* x, double alpha, int64_t n);

// resize.cu
MpfErr resize_apply(int32_t dt, const int64_t* row_start, const int64_t* col, const double* weight, int64_t rows,
                    int64_t cols, const void* x, void* y, int64_t outer, int64_t inner);

// degrade.cu
MpfErr filter2d(int32_t dt, const void* x, const void* k, void* y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t kn,
                int64_t kh, int64_t kw, int32_t backward);
MpfErr gaussian_noise(int32_t dt, const void* x, void* y, int64_t n, int64_t c, int64_t hw, const double* sigma,
                      const uint8_t* grey, uint64_t seed, uint64_t offset, int32_t clip);

// gemm.cu
MpfErr matmul_forward(int32_t dt, int64_t M, int64_t K, int64_t N, const void* a, const void* b, void* c);
MpfErr matmul_backward(int32_t dt, int64_t M, int64_t K, int64_t N, const void* a, const void* b, const void* gc, void* ga,
                       void* gb);
MpfErr linear_forward(int32_t dt, int64_t rows, int64_t in, int64_t out, const void* x, const void* w, const void* bias,
                      void* y);
MpfErr linear_backward(int32_t dt, int64_t rows, int64_t in, int64_t out, const void* x, const void* w, const void* gy,
                       void* gx, void* gw, void* gbias);

// conv2d.cu: cuDNN (conv2d_cudnn.cu) where it was found at build time, else the own kernels
MpfErr conv2d_forward(int32_t dt, const MpfConv2d* s, const void* const* xs, const void* w, const void* b, void* y);
MpfErr conv2d_backward_data(int32_t dt, const MpfConv2d* s, const void* w, const void* gy, void* const* gxs);
MpfErr conv2d_backward_weight(int32_t dt, const MpfConv2d* s, const void* const* xs, const void* gy, void* gw);
MpfErr conv2d_backward_bias(int32_t dt, const MpfConv2d* s, const void* gy, void* gb);
const char* conv2d_engine();

// cr_samples.cu, cr_similarity.cu
MpfErr cr_samples(int32_t dt, const void* x, const void* k, void* y, int64_t c, int64_t h, int64_t w, int64_t m, int64_t kh,
                  int64_t kw, const int64_t* source, const int64_t* keep, const double* factor, const double* sigma,
                  uint64_t seed, uint64_t offset, int32_t clip);
MpfErr cr_similarity_forward(int32_t dt, const void* a, const void* b, const int64_t* index, void* s, int64_t m, int64_t c,
                             int64_t hw, double eps);
MpfErr cr_similarity_backward(int32_t dt, const void* a, const void* b, const int64_t* index, const void* gs, void* ga,
                              void* gb, int64_t n, int64_t m, int64_t c, int64_t hw, double eps);

// squeeze_excite.cu
MpfErr se_pool(int32_t dt, const void* x, void* m, int64_t n, int64_t c, int64_t hw);
MpfErr se_excite(int32_t dt, const MpfSqueezeExcite* s, const void* x, const void* m, void* y);
MpfErr se_backward(int32_t dt, const MpfSqueezeExcite* s, const void* x, const void* m, const void* gy, void* gx, void* gw1,
                   void* gb1, void* gw2, void* gb2, void* scratch);

}  // namespace mpf::cuda
