#include <racegate/stress.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

TEST(Stress, EveryThreadRunsEveryIteration) {
  constexpr std::size_t kThreads = 5, kIterations = 40;
  std::vector<std::atomic<int>> runs(kThreads * kIterations);
  racegate::stress({kThreads, kIterations}, [&](std::size_t thread, std::size_t it) {
    ASSERT_LT(thread, kThreads);
    ASSERT_LT(it, kIterations);
    runs[thread * kIterations + it].fetch_add(1);
  });
  for (auto& r : runs) EXPECT_EQ(r.load(), 1);
}

TEST(Stress, BodiesRunOnDistinctThreadsIncludingTheCaller) {
  std::mutex mu;
  std::set<std::thread::id> ids;
  racegate::stress({4, 3}, [&](std::size_t, std::size_t) {
    std::lock_guard<std::mutex> hold(mu);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u);
}

TEST(Stress, IterationsAreSeparatedByTheBarrier) {
  constexpr std::size_t kThreads = 4, kIterations = 60;
  std::atomic<std::size_t> finished{0};
  std::atomic<bool> overlap{false};
  racegate::stress({kThreads, kIterations}, [&](std::size_t, std::size_t it) {
    // nobody may start iteration `it` before every body of the iterations before it has finished
    if (finished.load() < it * kThreads) overlap = true;
    finished.fetch_add(1);
  });
  EXPECT_FALSE(overlap.load());
  EXPECT_EQ(finished.load(), kThreads * kIterations);
}

TEST(Stress, ThreadsOfOneIterationRunTogether) {
  // Thread 0 waits inside its body until every other thread has entered the same iteration's body:
  // this completes only if the bodies of one iteration really run concurrently (serialized bodies
  // would hang here until the CTest timeout).
  constexpr std::size_t kThreads = 3, kIterations = 20;
  std::vector<std::atomic<std::size_t>> entered(kIterations);
  racegate::stress({kThreads, kIterations}, [&](std::size_t thread, std::size_t it) {
    entered[it].fetch_add(1);
    if (thread == 0) {
      while (entered[it].load() < kThreads) std::this_thread::yield();
    }
  });
  for (auto& e : entered) EXPECT_EQ(e.load(), kThreads);
}

TEST(Stress, ExceptionIsRethrownAfterAllThreadsFinish) {
  std::atomic<int> calls{0};
  EXPECT_THROW(racegate::stress({3, 10},
                                [&](std::size_t thread, std::size_t it) {
                                  calls.fetch_add(1);
                                  if (thread == 1 && it == 2) throw std::runtime_error("boom");
                                }),
               std::runtime_error);
  EXPECT_EQ(calls.load(), 3 * 10 - 7);  // thread 1 stops after its third call
}

TEST(Stress, SingleThreadRunsInline) {
  std::vector<std::size_t> seen;
  racegate::stress({1, 5}, [&](std::size_t thread, std::size_t it) {
    EXPECT_EQ(thread, 0u);
    seen.push_back(it);
  });
  EXPECT_EQ(seen, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

TEST(Stress, JitterIsAPureFunctionOfSeedThreadAndIteration) {
  EXPECT_EQ(racegate::jitter_spins(7, 2, 9, 1000), racegate::jitter_spins(7, 2, 9, 1000));
  std::set<std::uint32_t> values;
  for (std::size_t it = 0; it < 50; ++it) {
    std::uint32_t v = racegate::jitter_spins(7, 1, it, 1000);
    EXPECT_LE(v, 1000u);
    values.insert(v);
  }
  EXPECT_GT(values.size(), 20u);
  EXPECT_NE(racegate::jitter_spins(7, 1, 3, 1000000), racegate::jitter_spins(8, 1, 3, 1000000));
  EXPECT_EQ(racegate::jitter_spins(7, 1, 3, 0), 0u);
}

TEST(Stress, SeedComesFromRacegateSeed) {
  ASSERT_EQ(setenv("RACEGATE_SEED", "12345", 1), 0);
  EXPECT_EQ(racegate::stress_seed(), 12345u);
  ASSERT_EQ(setenv("RACEGATE_SEED", "not-a-number", 1), 0);
  std::uint64_t fallback = racegate::stress_seed();
  ASSERT_EQ(unsetenv("RACEGATE_SEED"), 0);
  EXPECT_EQ(racegate::stress_seed(), fallback);
}

}  // namespace
