// One thread uses an atomic, the other reads the same word with a plain load.
#include <atomic>
#include <thread>
#include <unistd.h>

std::atomic<int> g_ready{0};

__attribute__((noinline)) void publish() { g_ready.store(1, std::memory_order_release); }

__attribute__((noinline)) int peek_plain() { return *reinterpret_cast<volatile int *>(&g_ready); }

int main() {
  std::thread a(publish);
  usleep(100000);
  int v = peek_plain();
  a.join();
  return v == 5;
}
