// Two threads increment a plain global counter without a lock.
#include <thread>

int g_hits = 0;

__attribute__((noinline)) void count_hits() {
  for (int i = 0; i < 1000; ++i) g_hits = g_hits + 1;
}

int main() {
  std::thread a(count_hits);
  std::thread b(count_hits);
  a.join();
  b.join();
  return g_hits == 0;
}
