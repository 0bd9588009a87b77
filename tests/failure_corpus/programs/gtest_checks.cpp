// GoogleTest: a test failing two checks in one run, and a timing check written without any timing word.
// corpus: libs=-lgtest -lgtest_main
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

static double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(Ledger, Balances) {
  int credits = 3, debits = 5;
  EXPECT_EQ(credits, debits) << "credits and debits differ";
  EXPECT_GE(credits - debits, 0);
}

TEST(Timer, FiresOnTime) {
  const auto begin = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  const double firedAt = seconds_since(begin), kDelay = 0.01, kSlack = 0.002;
  EXPECT_LT(firedAt - 0.0, kDelay + kSlack);
}
