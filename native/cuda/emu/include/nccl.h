// CPU emulation of the NCCL calls the MPI plugin makes (native/mpi/nccl_ops.cc), for the CUDA
// emulation build (../README.md): "device" memory is host memory, and a communicator can only have
// one rank, so an all-reduce is a copy. It lets CI compile and exercise the NCCL path's
// bootstrap and round trip without a GPU; nothing about real NCCL is checked.
#pragma once
#include <cstddef>
#include <cstring>

#include "cuda_runtime.h"

#define NCCL_UNIQUE_ID_BYTES 128
typedef struct {
  char internal[NCCL_UNIQUE_ID_BYTES];
} ncclUniqueId;
typedef enum { ncclSuccess = 0, ncclInvalidArgument = 4, ncclInvalidUsage = 5 } ncclResult_t;
typedef enum { ncclFloat = 7 } ncclDataType_t;
typedef enum { ncclSum = 0 } ncclRedOp_t;
typedef struct MpfEmuNcclComm {
  int ranks;
}* ncclComm_t;

inline const char* ncclGetErrorString(ncclResult_t r) {
  return r == ncclSuccess ? "no error" : r == ncclInvalidArgument ? "invalid argument" : "invalid usage (the emulation has one rank)";
}
inline ncclResult_t ncclGetVersion(int* v) {
  *v = 0;  // 0: the emulation
  return ncclSuccess;
}
inline ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  std::memset(id, 0, sizeof(*id));
  std::memcpy(id->internal, "mpfnet-emulated-nccl", 20);
  return ncclSuccess;
}
inline ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId, int rank) {
  if (nranks != 1 || rank != 0) return ncclInvalidUsage;
  *comm = new MpfEmuNcclComm{1};
  return ncclSuccess;
}
inline ncclResult_t ncclAllReduce(const void* send, void* recv, size_t count, ncclDataType_t type, ncclRedOp_t, ncclComm_t comm, cudaStream_t) {
  if (!comm || type != ncclFloat) return ncclInvalidArgument;
  if (send != recv) std::memcpy(recv, send, count * sizeof(float));  // the sum over one rank
  return ncclSuccess;
}
inline ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  delete comm;
  return ncclSuccess;
}
