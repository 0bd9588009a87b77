// Two threads append to one global std::vector without a lock. Both racing accesses are inside
// library code (vector's inline members), but the vector is the project's: this is the project's bug.
#include <thread>
#include <vector>

std::vector<int> g_ids;

__attribute__((noinline)) void record_ids(int base) {
  for (int i = 0; i < 100; ++i) g_ids.push_back(base + i);
}

int main() {
  std::thread a(record_ids, 0);
  std::thread b(record_ids, 1000);
  a.join();
  b.join();
  return g_ids.empty();
}
