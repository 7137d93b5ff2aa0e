// mpfnet_mpi.so: the MPI transport of data-parallel training (docs/distributed-training.md).
// A separate N-API module, linked to libmpi and built only where CMake finds MPI, so the main
// addon never depends on MPI. lib/distributed/mpi.ts loads it (RTLD_GLOBAL, which Open MPI's own
// components need) only when a launcher (mpirun, srun) started the process.
//
// Threading: MPI is initialised with MPI_THREAD_SERIALIZED from the JS thread; the collectives
// run on libuv worker threads (Napi::AsyncWorker) so the event loop keeps serving signals and
// timers while a rank waits for its peers. JS awaits one collective before starting the next;
// g_mpi_lock makes that a guarantee rather than a convention. abort() deliberately skips the lock:
// it must work while a collective is stuck waiting for a dead peer.
#include <mpi.h>
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "mpi_state.h"

namespace mpf_mpi {

std::mutex g_mpi_lock;
bool g_initialised = false;
int g_rank = 0;
int g_size = 1;

#ifdef MPF_WITH_NCCL
void register_nccl(Napi::Env env, Napi::Object exports);  // nccl_ops.cc
void destroy_nccl();
#endif

namespace {

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, len);
}

void require_init(Napi::Env env, const char* op) {
  if (!g_initialised) throw Napi::Error::New(env, std::string(op) + ": call init() first");
}

// init(): MPI_Init_thread(SERIALIZED) once; returns {rank, size, threadLevel, library}.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!g_initialised) {
    int provided = 0;
    int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) throw Napi::Error::New(env, "MPI_Init_thread failed: " + mpi_error(rc));
    if (provided < MPI_THREAD_SERIALIZED) {
      throw Napi::Error::New(env, "the MPI library provides thread level " + std::to_string(provided) +
                                      ", mpfnet needs MPI_THREAD_SERIALIZED (collectives run on a worker thread)");
    }
    // Errors come back as codes (turned into JS errors) instead of killing the job silently.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_initialised = true;
  }
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(lib, &len);
  std::string library(lib, len);
  library = library.substr(0, library.find_first_of("\n,"));
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", g_rank);
  o.Set("size", g_size);
  o.Set("library", library);
  return o;
}

// Sums `data` over all ranks in place, in buckets of `bucket` floats, then scales by 1/size.
class AllreduceMeanWorker : public Napi::AsyncWorker {
 public:
  AllreduceMeanWorker(Napi::Env env, Napi::Float32Array data, size_t bucket)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), bucket_(bucket) {
    ref_ = Napi::Persistent(data);  // keeps the buffer alive while the worker writes it
    ptr_ = data.Data();
    count_ = data.ElementLength();
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    std::lock_guard<std::mutex> lock(g_mpi_lock);
    auto t0 = std::chrono::steady_clock::now();
    for (size_t off = 0; off < count_; off += bucket_) {
      int n = int(std::min(bucket_, count_ - off));
      int rc = MPI_Allreduce(MPI_IN_PLACE, ptr_ + off, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      if (rc != MPI_SUCCESS) return SetError("MPI_Allreduce failed: " + mpi_error(rc));
      buckets_++;
    }
    const float inv = 1.0f / float(g_size);
    if (g_size > 1) for (size_t i = 0; i < count_; i++) ptr_[i] *= inv;
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  void OnOK() override {
    Napi::Object o = Napi::Object::New(Env());
    o.Set("seconds", seconds_);
    o.Set("buckets", double(buckets_));
    o.Set("bytes", double(count_ * sizeof(float)));
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Float32Array> ref_;
  float* ptr_ = nullptr;
  size_t count_ = 0;
  size_t bucket_;
  size_t buckets_ = 0;
  double seconds_ = 0;
};

// allreduceMean(data: Float32Array, bucketFloats: number): Promise<{seconds, buckets, bytes}>.
Napi::Value AllreduceMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_init(env, "allreduceMean");
  if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "allreduceMean: data must be a Float32Array");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "allreduceMean: bucketFloats must be a number");
  double b = info[1].As<Napi::Number>().DoubleValue();
  if (!(b >= 1 && b <= 1 << 30)) throw Napi::RangeError::New(env, "allreduceMean: bucketFloats must be in 1..2^30, got " + std::to_string(b));
  auto* w = new AllreduceMeanWorker(env, info[0].As<Napi::Float32Array>(), size_t(b));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// Every rank's `bytes` (all the same length), concatenated in rank order.
class AllgatherWorker : public Napi::AsyncWorker {
 public:
  AllgatherWorker(Napi::Env env, const uint8_t* data, size_t len)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), mine_(data, data + len) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    std::lock_guard<std::mutex> lock(g_mpi_lock);
    // Lengths first, so a rank sending a different length is an error, not a corrupted gather.
    int len = int(mine_.size());
    std::vector<int> lens(g_size);
    int rc = MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return SetError("MPI_Allgather failed: " + mpi_error(rc));
    for (int r = 0; r < g_size; r++)
      if (lens[r] != len) return SetError("allgather: rank " + std::to_string(r) + " sent " + std::to_string(lens[r]) + " bytes, this rank " + std::to_string(len));
    all_.resize(size_t(len) * g_size);
    rc = MPI_Allgather(mine_.data(), len, MPI_BYTE, all_.data(), len, MPI_BYTE, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return SetError("MPI_Allgather failed: " + mpi_error(rc));
  }
  void OnOK() override {
    deferred_.Resolve(Napi::Buffer<uint8_t>::Copy(Env(), all_.data(), all_.size()));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<uint8_t> mine_, all_;
};

// allgather(bytes: Uint8Array): Promise<Buffer> (size × bytes.length, rank order).
Napi::Value Allgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require_init(env, "allgather");
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "allgather: bytes must be a Uint8Array");
  auto a = info[0].As<Napi::Uint8Array>();
  auto* w = new AllgatherWorker(env, a.Data(), a.ElementLength());
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// abort(code, message): prints the message and ends every rank of the job (MPI_Abort).
Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  std::string msg = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  if (!msg.empty()) {
    std::fprintf(stderr, "%s\n", msg.c_str());
    std::fflush(stderr);
  }
  if (g_initialised) MPI_Abort(MPI_COMM_WORLD, code == 0 ? 1 : code);
  std::_Exit(code == 0 ? 1 : code);
}

// finalize(): MPI_Finalize (after the last collective; later calls are errors).
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  if (g_initialised) {
    std::lock_guard<std::mutex> lock(g_mpi_lock);
#ifdef MPF_WITH_NCCL
    destroy_nccl();
#endif
    MPI_Finalize();
    g_initialised = false;
  }
  return info.Env().Undefined();
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("allreduceMean", Napi::Function::New(env, AllreduceMean));
  exports.Set("allgather", Napi::Function::New(env, Allgather));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
#ifdef MPF_WITH_NCCL
  register_nccl(env, exports);
#endif
  return exports;
}

}  // namespace
}  // namespace mpf_mpi

// NODE_API_MODULE needs a plain function name.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return mpf_mpi::Module(env, exports); }
NODE_API_MODULE(mpfnet_mpi, InitModule)
