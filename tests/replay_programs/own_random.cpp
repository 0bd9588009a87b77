// A test that draws its own work from std::random_device: the race (two threads bumping one unguarded counter)
// happens only on draws that pick the shared counter, 1 in DRAW_ONE_IN (default 2), so racegate's seed cannot bring
// it back (field tests #56). DRAW_ONE_IN lets a test fix the odds on either side of a replay.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

static long shared_total = 0;

int main() {
  const char* odds = std::getenv("DRAW_ONE_IN");
  const unsigned one_in = odds ? static_cast<unsigned>(std::strtoul(odds, nullptr, 10)) : 2u;
  std::random_device device;
  const bool share = device() % one_in == 0;
  long own[2] = {0, 0};
  auto work = [&](int i) {
    for (int k = 0; k < 1000; ++k) {
      if (share) ++shared_total; else ++own[i];
    }
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  std::printf("shared %d total %ld\n", share, shared_total + own[0] + own[1]);
  return 0;
}
