#include "sharded_word_counter.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

TEST(ShardedWordCounterFixed, FourThreadsCountOverlappingWords) {
  ShardedWordCounter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < 25; ++i) counter.add("alpha beta gamma delta alpha");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.total(), 4 * 25 * 5);
  EXPECT_EQ(counter.count("alpha"), 4 * 25 * 2);
  EXPECT_EQ(counter.count("omega"), 0);
}
