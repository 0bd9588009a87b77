#include "word_counter.h"

#include <gtest/gtest.h>

#include <thread>

TEST(WordCounterRace, TwoThreadsCountDifferentDocuments) {
  WordCounter counter;
  std::thread first([&] { counter.add("the quick brown fox jumps over the lazy dog"); });
  std::thread second([&] { counter.add("a stitch in time saves nine said the tailor"); });
  first.join();
  second.join();
  EXPECT_EQ(counter.total(), 18);
  EXPECT_EQ(counter.count("the"), 3);
}
