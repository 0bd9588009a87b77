// corpus: tsan_options=symbolize=0
// The same kind of global race as race_global.cpp, logged without symbolization.
#include <thread>

int g_ticks = 0;

__attribute__((noinline)) void tick() {
  for (int i = 0; i < 1000; ++i) g_ticks = g_ticks + 1;
}

int main() {
  std::thread a(tick);
  std::thread b(tick);
  a.join();
  b.join();
  return g_ticks == 0;
}
