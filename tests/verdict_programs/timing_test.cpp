// A GoogleTest test with a deadline assertion that the perturbed schedules' slowdown breaks.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

TEST(Timing, AnswersWithinTheDeadline) {
  const char* schedule = std::getenv("RACEGATE_SCHEDULE");
  const bool perturbed = schedule != nullptr && std::strcmp(schedule, "none") != 0;
  const auto start = std::chrono::steady_clock::now();
  // The work runs on a thread of its own: racegate repeats only tests that ever ran more than one thread.
  std::thread([&] { std::this_thread::sleep_for(std::chrono::milliseconds(perturbed ? 300 : 5)); }).join();
  const long elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(elapsed_ms, 200);
}
