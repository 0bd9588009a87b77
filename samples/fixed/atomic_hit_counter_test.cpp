#include "atomic_hit_counter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

TEST(AtomicHitCounterFixed, FourThreadsCountEveryHit) {
  AtomicHitCounter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) counter.record();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.total(), 4 * 20000);
}
