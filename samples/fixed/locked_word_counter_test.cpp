#include "locked_word_counter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

TEST(MutexWordCounterFixed, FourThreadsCountDifferentDocuments) {
  LockedWordCounter counter;
  const char* documents[] = {
      "the quick brown fox jumps over the lazy dog",
      "a stitch in time saves nine said the tailor",
      "to be or not to be",
      "the end",
  };
  std::vector<std::thread> threads;
  for (const char* doc : documents) threads.emplace_back([&counter, doc] { counter.add(doc); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.total(), 9 + 9 + 6 + 2);
  EXPECT_EQ(counter.count("the"), 4);
  EXPECT_EQ(counter.count("be"), 2);
}
