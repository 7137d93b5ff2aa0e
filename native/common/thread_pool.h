// The CPU thread pool every kernel shares. Sized to the CPUs this process may run on;
// MPFNET_NUM_THREADS (or set_num_threads) overrides. The calling thread works too, so a pool of
// n threads runs n-1 workers. Calls from inside a parallel region run serially (no nesting), and
// concurrent callers (e.g. two Node worker threads) take turns.
#pragma once
#include <cstdint>
#include <functional>

namespace mpf {

int num_threads();
void set_num_threads(int n);  // n >= 1; restarts the workers
// Run every parallel region started from the calling thread serially on that thread (e.g. a Node
// worker thread preparing data, which must not queue for the pool the training step uses).
void set_thread_serial(bool on);

// Run fn(task) for task in [0, ntasks), spread over the pool.
void parallel_tasks(int64_t ntasks, const std::function<void(int64_t task)>& fn);

// Split [0, n) into contiguous ranges of at least `grain` items, one or more per thread,
// and run fn(begin, end) on each.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace mpf
