// Tests for racegate's batched first pass: which test a report or a crash belongs to when many tests share
// one process. Crashy.Abort and Hangs.WhenAsked end the process; Leaky.* leave a thread behind on purpose.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <unistd.h>

namespace {

int racy_counter = 0;     // written by two threads of Racy.Counter without a lock
int leaked_counter = 0;   // written by the thread Leaky.DetachedWriter leaves running
std::atomic<int> leaked_ticks{0};

void add_in_two_threads(std::atomic<int>& n) {
  std::thread other([&n] { n.fetch_add(1); });
  n.fetch_add(1);
  other.join();
}

}  // namespace

TEST(Calm, First) { EXPECT_EQ(2, 1 + 1); }
TEST(Calm, Second) { EXPECT_TRUE(true); }
TEST(Threads, JoinedWorkers) {
  std::atomic<int> n{0};
  add_in_two_threads(n);
  EXPECT_EQ(2, n.load());
}
TEST(Racy, Counter) {
  // The thread's write comes first, and the body's access only once it is done: TSan can miss two accesses
  // made at the very same moment on two cores (neither sees the other in shadow memory yet), which made this
  // test pass unreported about once in a few hundred runs. A relaxed atomic orders nothing for TSan.
  std::atomic<bool> written{false};
  std::thread other([&written] {
    ++racy_counter;
    written.store(true, std::memory_order_relaxed);
  });
  while (!written.load(std::memory_order_relaxed)) std::this_thread::yield();
  ++racy_counter;
  other.join();
}
TEST(Calm, Third) { EXPECT_NE(1, 2); }
TEST(Broken, Assertion) { EXPECT_EQ(3, 1 + 1) << "the sum is wrong"; }
TEST(Crashy, Abort) {
  if (std::getenv("BATCH_SUITE_NO_CRASH") == nullptr) std::abort();
}
TEST(Hangs, WhenAsked) {
  // Hangs only when the e2e test asks, so the other runs of the suite stay quick.
  while (std::getenv("BATCH_SUITE_HANG") != nullptr) std::this_thread::sleep_for(std::chrono::seconds(1));
}
// A suite of its own, so gtest runs it after Crashy and Hangs (it runs suites in the order they first appear).
TEST(Later, Runs) { EXPECT_EQ(4, 2 * 2); }
TEST(Calm, Fourth) { EXPECT_GE(4, 3); }
TEST(Threads, MoreWorkers) {
  std::atomic<int> n{0};
  add_in_two_threads(n);
  add_in_two_threads(n);
  EXPECT_EQ(4, n.load());
}

// A thread that outlives its test: its writes race with the next test's, in whatever test runs then.
TEST(Leaky, DetachedWriter) {
  std::thread([] {
    for (;;) {
      ++leaked_counter;
      leaked_ticks.fetch_add(1, std::memory_order_relaxed);
      usleep(1000);  // pacing, so the writer does not take a whole core
    }
  }).detach();
}
TEST(Leaky, Reader) {
  leaked_counter = 0;
  // Wait until the leaked thread has written again after us (a relaxed atomic orders nothing for TSan).
  int seen = leaked_ticks.load(std::memory_order_relaxed);
  while (leaked_ticks.load(std::memory_order_relaxed) < seen + 2) std::this_thread::yield();
}
