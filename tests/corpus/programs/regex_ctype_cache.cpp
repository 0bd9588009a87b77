// Two threads compile regular expressions. libstdc++'s std::ctype<char>::narrow fills a cache inside the
// shared classic-locale facet without synchronization (GCC bug 77704): TSan reports a race on memory
// that belongs to libstdc++, reached from project code that shares nothing.
#include <regex>
#include <string>
#include <thread>

__attribute__((noinline)) bool matches_ticket(const std::string& text) {
  std::regex ticket("[a-z]+-[0-9]+");
  return std::regex_match(text, ticket);
}

int main() {
  bool a_ok = false, b_ok = false;
  std::thread a([&] { a_ok = matches_ticket("race-1"); });
  std::thread b([&] { b_ok = matches_ticket("gate-2"); });
  a.join();
  b.join();
  return a_ok && b_ok ? 0 : 1;
}
