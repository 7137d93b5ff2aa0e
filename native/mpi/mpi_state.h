// State shared by the MPI plugin's files (mpi_addon.cc owns it): MPI's rank and size once
// initialised, and the lock that keeps collectives one at a time (MPI_THREAD_SERIALIZED).
#pragma once
#include <mutex>

namespace mpf_mpi {

extern std::mutex g_mpi_lock;
extern bool g_initialised;
extern int g_rank;
extern int g_size;

}  // namespace mpf_mpi
