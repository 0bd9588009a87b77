// Concurrent inserts into a shared std::unordered_map: TSan reports this several times,
// at different standard-library frames and at different addresses.
#include <string>
#include <thread>
#include <unordered_map>

std::unordered_map<std::string, int> g_words;

__attribute__((noinline)) void add_words(int base) {
  for (int i = 0; i < 200; ++i) g_words[std::to_string(base + i)] += 1;
}

int main() {
  std::thread a(add_words, 0);
  std::thread b(add_words, 100000);
  a.join();
  b.join();
  return g_words.empty();
}
