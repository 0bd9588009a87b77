// Test cases for racegate's batched first pass of a doctest program: which case a report or a crash belongs to
// when many cases share one process. doctest runs them in the order of this file. "aborts" and "hangs when
// asked" end the process; the "leaky" cases leave a thread behind on purpose.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <unistd.h>

namespace {

int racy_counter = 0;    // written by two threads of "racy, counter" without a lock
int leaked_counter = 0;  // written by the thread "leaky writer" leaves running
std::atomic<int> leaked_ticks{0};

}  // namespace

TEST_CASE("calm one") { CHECK(1 + 1 == 2); }

TEST_CASE("threads joined") {
  std::atomic<int> n{0};
  std::thread other([&n] { n.fetch_add(1); });
  n.fetch_add(1);
  other.join();
  CHECK(n.load() == 2);
}

// A comma in the name: doctest's filter list needs it escaped.
TEST_CASE("racy, counter") {
  // The thread's write comes first, and the body's access only once it is done: TSan can miss two accesses
  // made at the very same moment on two cores. A relaxed atomic orders nothing for TSan.
  std::atomic<bool> written{false};
  std::thread other([&written] {
    ++racy_counter;
    written.store(true, std::memory_order_relaxed);
  });
  while (!written.load(std::memory_order_relaxed)) std::this_thread::yield();
  ++racy_counter;
  other.join();
}

TEST_CASE("broken") { CHECK(1 + 1 == 3); }

TEST_CASE("calm two") { CHECK(true); }

TEST_CASE("aborts") {
  if (std::getenv("DOCTEST_SUITE_NO_CRASH") == nullptr) std::abort();
}

TEST_CASE("hangs when asked") {
  // Hangs only when the e2e test asks, so the other runs of the suite stay quick.
  while (std::getenv("DOCTEST_SUITE_HANG") != nullptr) std::this_thread::sleep_for(std::chrono::seconds(1));
}

TEST_CASE("after") { CHECK(2 * 2 == 4); }

// A thread that outlives its case: its writes race with the next case's, in whatever case runs then.
TEST_CASE("leaky writer") {
  std::thread([] {
    for (;;) {
      ++leaked_counter;
      leaked_ticks.fetch_add(1, std::memory_order_relaxed);
      usleep(1000);  // pacing, so the writer does not take a whole core
    }
  }).detach();
}

TEST_CASE("leaky reader") {
  leaked_counter = 0;
  // Wait until the leaked thread has written again after us (a relaxed atomic orders nothing for TSan).
  int seen = leaked_ticks.load(std::memory_order_relaxed);
  while (leaked_ticks.load(std::memory_order_relaxed) < seen + 2) std::this_thread::yield();
}
