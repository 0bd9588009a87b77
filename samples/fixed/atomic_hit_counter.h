// The fix of racy/hit_counter.h: every update is one atomic step.
#pragma once

#include <atomic>

class AtomicHitCounter {
 public:
  void record() { hits_.fetch_add(1, std::memory_order_relaxed); }
  long total() const { return hits_.load(); }

 private:
  std::atomic<long> hits_{0};
};
