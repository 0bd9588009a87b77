// racegate/stress.hpp -- run a test body on many threads at once, many times, with seeded jitter.
//
// Header-only, C++17, no dependencies beyond the standard library.
//
// A race needs two threads inside the racy code at the same moment. A test that starts two
// std::threads one after the other rarely gets that: the first is often done before the second
// runs. racegate::stress starts N threads once, then for each of M iterations releases all of them
// together from a barrier and has each spin for a short random time (the jitter) before calling
// the body, so every iteration overlaps the bodies with a different offset.
//
//   #include <racegate/stress.hpp>
//
//   TEST(Cache, ConcurrentGet) {
//     Cache cache;
//     racegate::stress({/*threads=*/4, /*iterations=*/200}, [&](std::size_t thread, std::size_t iteration) {
//       cache.get(thread == 0 ? "a" : "b");
//     });
//   }
//
// Seeding: the jitter comes from StressOptions::seed; 0 (the default) means "the run's seed", taken
// from the RACEGATE_SEED environment variable that racegate sets for every run (a fixed value when
// it is unset), so a racegate replay repeats the same jitter.
//
// Synchronization: the barrier orders everything before iteration i against everything in
// iteration i+1 (a happens-before edge ThreadSanitizer sees), but nothing orders the bodies of one
// iteration against each other: races between them are reported.
//
// An exception escaping the body stops that thread's remaining iterations (the others complete);
// stress() rethrows the first one after all threads have joined.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace racegate {

struct StressOptions {
  std::size_t threads = 4;         // bodies running concurrently (at least 1)
  std::size_t iterations = 100;    // times every thread runs the body
  std::uint64_t seed = 0;          // 0: use stress_seed()
  std::uint32_t max_jitter = 2000; // upper bound of the busy-wait before each body, in spin steps
};

// The seed from RACEGATE_SEED (decimal u64), or a fixed default when it is unset or not a number.
inline std::uint64_t stress_seed() {
  const char* text = std::getenv("RACEGATE_SEED");
  if (text == nullptr || *text == '\0') return 0x5eed;
  char* end = nullptr;
  unsigned long long value = std::strtoull(text, &end, 10);
  return *end == '\0' ? static_cast<std::uint64_t>(value) : 0x5eed;
}

namespace detail {

inline std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Reusable barrier for a fixed number of threads. Waiters spin briefly, then yield: under a
// one-CPU schedule the thread they wait for needs the processor.
class SpinBarrier {
 public:
  explicit SpinBarrier(std::size_t count) : count_(count) {}

  void arrive_and_wait() {
    const std::size_t gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == count_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
    for (unsigned spins = 0; generation_.load(std::memory_order_acquire) == gen; ++spins) {
      if (spins > 64) std::this_thread::yield();
    }
  }

 private:
  const std::size_t count_;
  std::atomic<std::size_t> arrived_{0};
  std::atomic<std::size_t> generation_{0};
};

}  // namespace detail

// Busy-wait steps thread `thread` spins before its body in `iteration` (a pure function of its
// arguments, exposed so tests and users can check or reproduce the jitter).
inline std::uint32_t jitter_spins(std::uint64_t seed, std::size_t thread, std::size_t iteration,
                                  std::uint32_t max_jitter) {
  if (max_jitter == 0) return 0;
  std::uint64_t h = detail::mix(seed ^ detail::mix((static_cast<std::uint64_t>(thread) << 32) ^ iteration));
  return static_cast<std::uint32_t>(h % (static_cast<std::uint64_t>(max_jitter) + 1));
}

// Runs body(thread_index, iteration) on options.threads threads, options.iterations times each,
// all threads released together from a barrier at every iteration. Blocks until all are done.
template <class Body>
void stress(const StressOptions& options, Body&& body) {
  const std::size_t n = options.threads == 0 ? 1 : options.threads;
  const std::uint64_t seed = options.seed == 0 ? stress_seed() : options.seed;
  detail::SpinBarrier barrier(n);
  std::mutex error_mutex;
  std::exception_ptr error;

  auto worker = [&](std::size_t thread) {
    bool failed = false;
    for (std::size_t it = 0; it < options.iterations; ++it) {
      barrier.arrive_and_wait();  // keep arriving after a failure so the others are not stuck
      if (failed) continue;
      // The spin counter is thread-local and volatile: a delay, not a synchronization.
      volatile std::uint32_t sink = 0;
      for (std::uint32_t s = jitter_spins(seed, thread, it, options.max_jitter); s > 0; --s) sink = sink + 1;
      try {
        body(thread, it);
      } catch (...) {
        std::lock_guard<std::mutex> hold(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (std::size_t t = 1; t < n; ++t) threads.emplace_back(worker, t);
  worker(0);  // the calling thread is thread 0
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace racegate
