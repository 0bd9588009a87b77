#include "release_spin_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

// Worker threads that never block: they spin on the queue until the last
// round is over, as a thread pool's hot loop does. The owner hands out the
// work in rounds and spins until each round is done, so every round hands the
// CPU back and forth between threads that make no system call and take no
// lock. A worker also checks that each task belongs to the round in progress.
TEST(ReleaseSpinQueueFixed, SpinningWorkersDrainEveryRound) {
  constexpr int kWorkers = 2;
  constexpr int kRounds = 30;
  constexpr int kBatch = 24;
  SpinQueue queue(16);
  std::atomic<int> round{0};  // kRounds: all done, the workers stop
  std::atomic<long> done{0};
  std::atomic<int> strays{0};
  std::vector<long> sums(kWorkers, 0);
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      Task task;
      int current;
      while ((current = round.load(std::memory_order_acquire)) < kRounds) {
        if (queue.try_pop(&task)) {
          // The round cannot end before this task is counted below.
          if (task.id / kBatch != current && task.id / kBatch != round.load(std::memory_order_acquire)) {
            strays.fetch_add(1);
          }
          sums[w] += task.payload;
          done.fetch_add(1, std::memory_order_release);
        }
      }
    });
  }
  long expected = 0;
  for (int r = 0; r < kRounds; ++r) {
    round.store(r, std::memory_order_release);
    for (int i = 0; i < kBatch; ++i) {
      Task task{r * kBatch + i, 3 * (r * kBatch + i) + 1};
      while (!queue.try_push(task)) {
      }
      expected += task.payload;
    }
    while (done.load(std::memory_order_acquire) != static_cast<long>(r + 1) * kBatch) {
    }
  }
  round.store(kRounds, std::memory_order_release);
  for (auto& t : workers) t.join();
  long total = 0;
  for (long s : sums) total += s;
  EXPECT_EQ(total, expected);
  EXPECT_EQ(strays.load(), 0);
}
