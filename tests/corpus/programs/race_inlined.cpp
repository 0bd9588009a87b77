// The racing store sits in a helper that the compiler inlines into its caller.
#include <thread>

static int g_level = 0;

static inline __attribute__((always_inline)) void raise_level(int by) { g_level += by; }

__attribute__((noinline)) void pump() {
  for (int i = 0; i < 1000; ++i) raise_level(3);
}

int main() {
  std::thread a(pump);
  std::thread b(pump);
  a.join();
  b.join();
  return g_level == 5;
}
