#include "common/thread_pool.h"

// CPU affinity (how many cores this process may use) is a Linux call; elsewhere the hardware count.
#if defined(__linux__)
#include <sched.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace mpf {
namespace {

int default_threads() {
  if (const char* env = std::getenv("MPFNET_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1) return std::min(n, 1024);
  }
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

thread_local bool t_in_parallel = false;
thread_local bool t_serial = false;  // set_thread_serial

// How work is handed over. Waking a sleeping thread costs a futex round trip (10-60 us measured
// on a 2-core VM), about as long as one small kernel, and a training step starts thousands of
// parallel regions. So:
//  - the caller never waits for a worker to wake: the caller claims tasks too, it waits only for
//    tasks in progress, and a worker that wakes late finds its tasks taken by the others;
//  - a worker that runs out of tasks spins for a short while (kSpin) watching for the next
//    region before it sleeps, so back-to-back regions find it awake. The spin is short, so an
//    idle pool sleeps almost at once and a busy machine loses little to it.
// Which thread runs which task: thread i (the caller is 0) owns the i-th of n equal, contiguous
// ranges of the region's tasks and runs them from the front; when its range is empty it takes
// tasks from the back of the others'. Kernels number their tasks in memory order (images, then
// rows or runs of the flat array), so each thread works on much the same part of the data from one
// operation to the next and finds what it wrote in its own cache. On a 2-core VM a core reads
// 256 KB that the other core has just written at 32 GB/s, against 200 GB/s from its own L2; with
// every task claimed from one shared counter instead, a 128x128 x4 inference took 12% longer and a
// training step 4-7% (docs/performance.md, "Which thread runs which task").
constexpr auto kSpin = std::chrono::microseconds(30);

// A thread's range of tasks in one 64-bit word, front << 32 | back, so a claim is one
// compare-exchange. Tasks [front, back) are left.
inline uint64_t range_word(int64_t front, int64_t back) { return (uint64_t(front) << 32) | uint64_t(back); }

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until pred() holds or kSpin has passed; true when pred() held.
template <typename Pred>
bool spin_until(Pred pred) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    if (pred()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() - start > kSpin) return pred();
  }
}

class Pool {
 public:
  explicit Pool(int n) { start(n); }
  ~Pool() { stop(); }

  int size() const { return nthreads_; }

  void resize(int n) {
    std::lock_guard<std::mutex> turn(turn_mu_);
    stop();
    start(n);
  }

  void run(int64_t ntasks, const std::function<void(int64_t)>& fn) {
    if (ntasks <= 0) return;
    if (ntasks == 1 || nthreads_ == 1 || t_in_parallel || t_serial) {
      for (int64_t t = 0; t < ntasks; ++t) fn(t);
      return;
    }
    if (ntasks > int64_t(UINT32_MAX)) {  // more than a range word holds: in regions of at most that many
      for (int64_t t0 = 0; t0 < ntasks; t0 += int64_t(UINT32_MAX))
        run(std::min(int64_t(UINT32_MAX), ntasks - t0), [&](int64_t t) { fn(t0 + t); });
      return;
    }
    std::lock_guard<std::mutex> turn(turn_mu_);
    {
      std::lock_guard<std::mutex> lk(mu_);
      const uint64_t region = generation_.load(std::memory_order_relaxed) + 1;
      fn_ = &fn;
      done_.store(0, std::memory_order_relaxed);
      error_ = nullptr;
      // The last region's ranges are all empty (its tasks were all claimed before it ended), so a
      // thread still reading them claims nothing; a compare-exchange that succeeds on a new range
      // claims a task of this region, whose function and count were stored before it (release).
      const int64_t n = nthreads_;
      ntasks_.store(ntasks, std::memory_order_relaxed);
      for (int64_t i = 0; i < n; ++i)
        ranges_[size_t(i)].store(range_word(ntasks * i / n, ntasks * (i + 1) / n), std::memory_order_release);
      generation_.store(region, std::memory_order_release);
      if (sleepers_ > 0) cv_.notify_all();
    }
    work(0);  // the caller takes tasks too
    auto finished = [&] { return done_.load(std::memory_order_acquire) == ntasks; };
    if (!spin_until(finished)) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, finished);
    }
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void start(int n) {
    nthreads_ = std::max(1, n);
    ranges_ = std::vector<std::atomic<uint64_t>>(size_t(nthreads_));
    for (auto& r : ranges_) r.store(range_word(0, 0));
    quit_.store(false);
    // The region the workers have seen is today's, read here: a worker thread may start running
    // only after the first region has already been published.
    const uint64_t seen = generation_.load();
    for (int i = 1; i < nthreads_; ++i) workers_.emplace_back([this, seen, i] { loop(seen, i); });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_.store(true);
      cv_.notify_all();
    }
    for (auto& w : workers_) w.join();
    workers_.clear();
  }
  // A task of range v: from its front when v is this thread's own range, else from its back; -1
  // when the range is empty.
  int64_t claim(int v, bool own) {
    std::atomic<uint64_t>& r = ranges_[size_t(v)];
    uint64_t w = r.load(std::memory_order_acquire);
    for (;;) {
      const int64_t front = int64_t(w >> 32), back = int64_t(w & UINT32_MAX);
      if (front >= back) return -1;
      const uint64_t next = own ? w + (uint64_t(1) << 32) : w - 1;
      if (r.compare_exchange_weak(w, next, std::memory_order_acq_rel, std::memory_order_acquire))
        return own ? front : back - 1;
    }
  }
  // Runs the tasks of thread `self`'s range, then the others' until none are left.
  void work(int self) {
    t_in_parallel = true;
    const int n = nthreads_;
    for (int k = 0; k < n; ++k) {
      const int v = (self + k) % n;
      for (int64_t t; (t = claim(v, k == 0)) >= 0;) {
        try {
          (*fn_)(t);
        } catch (...) {
          std::lock_guard<std::mutex> lk(mu_);
          if (!error_) error_ = std::current_exception();
        }
        if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == ntasks_.load(std::memory_order_relaxed)) {
          // The caller may have stopped spinning: wake it under the lock it waits with.
          std::lock_guard<std::mutex> lk(mu_);
          done_cv_.notify_one();
        }
      }
    }
    t_in_parallel = false;
  }
  void loop(uint64_t seen, int self) {
    for (;;) {
      auto news = [&] { return quit_.load(std::memory_order_relaxed) || generation_.load(std::memory_order_acquire) != seen; };
      if (!spin_until(news)) {
        std::unique_lock<std::mutex> lk(mu_);
        ++sleepers_;
        cv_.wait(lk, news);
        --sleepers_;
      }
      if (quit_.load()) return;
      seen = generation_.load(std::memory_order_acquire);
      work(self);
    }
  }

  int nthreads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex turn_mu_;  // one parallel region at a time
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  // The current region (written by the caller before it publishes the ranges).
  const std::function<void(int64_t)>* fn_ = nullptr;
  std::atomic<int64_t> ntasks_{0};
  std::vector<std::atomic<uint64_t>> ranges_;  // per thread: its range_word
  std::atomic<int64_t> done_{0};               // tasks of the region finished
  std::atomic<uint64_t> generation_{0};        // the latest region's number
  int sleepers_ = 0;                           // workers waiting on cv_ (guarded by mu_)
  std::atomic<bool> quit_{false};
  std::exception_ptr error_;
};

Pool& pool() {
  // Leaked on purpose: joining threads during static destruction at process exit can deadlock.
  static Pool* p = new Pool(default_threads());
  return *p;
}

}  // namespace

int num_threads() { return pool().size(); }
void set_num_threads(int n) { pool().resize(n); }
void set_thread_serial(bool on) { t_serial = on; }

void parallel_tasks(int64_t ntasks, const std::function<void(int64_t)>& fn) { pool().run(ntasks, fn); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t max_chunks = std::max<int64_t>(1, (n + grain - 1) / grain);
  const int64_t chunks = std::min<int64_t>(max_chunks, int64_t(num_threads()) * 4);
  if (chunks <= 1 || t_in_parallel || t_serial) {
    fn(0, n);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  pool().run(chunks, [&](int64_t c) {
    const int64_t b = c * step, e = std::min(n, b + step);
    if (b < e) fn(b, e);
  });
}

}  // namespace mpf
