// A test whose single run takes longer than a small --time-budget, for racegate's "no pass without evidence"
// tests: argv[1] is the seconds it runs (two threads looping until then), argv[2] "racy" makes them race on one
// counter early on (so a run cut at the deadline has already printed its report), anything else keeps them
// apart. argv[1] 0 with "short" is a quick two-thread test that ends at once.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

static long shared_counter = 0;
static std::atomic<long> safe_counter{0};

static void work(bool racy, std::chrono::steady_clock::time_point until) {
  for (int i = 0; i < 1000; ++i) {
    if (racy) {
      ++shared_counter;
    } else {
      safe_counter.fetch_add(1, std::memory_order_relaxed);
    }
  }
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.0;
  const bool racy = argc > 2 && std::strcmp(argv[2], "racy") == 0;
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  std::thread a(work, racy, until);
  std::thread b(work, racy, until);
  a.join();
  b.join();
  return 0;
}
