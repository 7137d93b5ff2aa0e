// NCCL in the MPI plugin (compiled only where CMake finds nccl.h, libnccl and the CUDA runtime,
// or against the host-memory stub of native/cuda/emu/include/nccl.h in the CUDA emulation build).
// The bootstrap is llm.c's: rank 0 makes the NCCL unique id, MPI broadcasts it, every rank joins
// the communicator on its own GPU (the launcher's local rank). Today only the GPU check's smoke
// test uses it (test/gpu/check.mjs): the trainer is CPU-only, so its gradients go over MPI.
#include <cuda_runtime.h>
#include <mpi.h>
#include <napi.h>
#include <nccl.h>

#include <chrono>
#include <string>

#include "mpi_state.h"

namespace mpf_mpi {
namespace {

ncclComm_t g_comm = nullptr;
cudaStream_t g_stream = nullptr;

std::string nccl_error(const char* what, ncclResult_t r) { return std::string(what) + " failed: " + ncclGetErrorString(r); }
std::string cuda_error(const char* what, cudaError_t e) { return std::string(what) + " failed: " + cudaGetErrorString(e); }

// ncclInit(device): joins the job's NCCL communicator on GPU `device`; returns {version}.
Napi::Value NcclInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!g_initialised) throw Napi::Error::New(env, "ncclInit: call init() first");
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "ncclInit: device must be a number");
  const int device = info[0].As<Napi::Number>().Int32Value();
  if (!g_comm) {
    std::lock_guard<std::mutex> lock(g_mpi_lock);
    ncclUniqueId id;
    if (g_rank == 0) {
      ncclResult_t r = ncclGetUniqueId(&id);
      if (r != ncclSuccess) throw Napi::Error::New(env, nccl_error("ncclGetUniqueId", r));
    }
    if (MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS) throw Napi::Error::New(env, "ncclInit: MPI_Bcast of the NCCL id failed");
    cudaError_t e = cudaSetDevice(device);
    if (e != cudaSuccess) throw Napi::Error::New(env, cuda_error("cudaSetDevice", e));
    e = cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) throw Napi::Error::New(env, cuda_error("cudaStreamCreateWithFlags", e));
    ncclResult_t r = ncclCommInitRank(&g_comm, g_size, id, g_rank);
    if (r != ncclSuccess) throw Napi::Error::New(env, nccl_error("ncclCommInitRank", r));
  }
  int version = 0;
  ncclGetVersion(&version);
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", version);
  return o;
}

// Copies `data` to the GPU, sums it over the ranks with ncclAllReduce, copies it back and
// divides by the rank count: the smoke test's round trip through NCCL.
class NcclAllreduceWorker : public Napi::AsyncWorker {
 public:
  NcclAllreduceWorker(Napi::Env env, Napi::Float32Array data)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {
    ref_ = Napi::Persistent(data);
    ptr_ = data.Data();
    count_ = data.ElementLength();
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    std::lock_guard<std::mutex> lock(g_mpi_lock);
    const size_t bytes = count_ * sizeof(float);
    float* dev = nullptr;
    cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&dev), bytes);
    if (e != cudaSuccess) return SetError(cuda_error("cudaMalloc", e));
    auto t0 = std::chrono::steady_clock::now();
    std::string err;
    if ((e = cudaMemcpyAsync(dev, ptr_, bytes, cudaMemcpyHostToDevice, g_stream)) != cudaSuccess) err = cuda_error("cudaMemcpyAsync", e);
    ncclResult_t r = ncclSuccess;
    if (err.empty() && (r = ncclAllReduce(dev, dev, count_, ncclFloat, ncclSum, g_comm, g_stream)) != ncclSuccess) err = nccl_error("ncclAllReduce", r);
    if (err.empty() && (e = cudaMemcpyAsync(ptr_, dev, bytes, cudaMemcpyDeviceToHost, g_stream)) != cudaSuccess) err = cuda_error("cudaMemcpyAsync", e);
    if (err.empty() && (e = cudaStreamSynchronize(g_stream)) != cudaSuccess) err = cuda_error("cudaStreamSynchronize", e);
    cudaFree(dev);
    if (!err.empty()) return SetError(err);
    const float inv = 1.0f / float(g_size);
    if (g_size > 1) for (size_t i = 0; i < count_; i++) ptr_[i] *= inv;
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  void OnOK() override {
    Napi::Object o = Napi::Object::New(Env());
    o.Set("seconds", seconds_);
    o.Set("bytes", double(count_ * sizeof(float)));
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Float32Array> ref_;
  float* ptr_ = nullptr;
  size_t count_ = 0;
  double seconds_ = 0;
};

Napi::Value NcclAllreduceMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!g_comm) throw Napi::Error::New(env, "ncclAllreduceMean: call ncclInit() first");
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "ncclAllreduceMean: data must be a Float32Array");
  auto* w = new NcclAllreduceWorker(env, info[0].As<Napi::Float32Array>());
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace

void register_nccl(Napi::Env env, Napi::Object exports) {
  exports.Set("ncclInit", Napi::Function::New(env, NcclInit));
  exports.Set("ncclAllreduceMean", Napi::Function::New(env, NcclAllreduceMean));
}

// Called by finalize() before MPI_Finalize.
void destroy_nccl() {
  if (g_comm) ncclCommDestroy(g_comm);
  g_comm = nullptr;
}

}  // namespace mpf_mpi
