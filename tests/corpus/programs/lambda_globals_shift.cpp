// corpus: source_name=lambda_globals.cpp
// lambda_globals.cpp with lines inserted above every race, so every line number in
// the reports moves while the races stay the same.
//
//
//
//
#include <thread>

long g_orders = 0;

namespace {
long g_refunds = 0;
}

long* open_tally() { return new long(0); }

int main() {
  // (shifted)
  std::thread a([] { g_orders += 2; });
  std::thread b([] { g_orders += 3; });
  a.join();
  b.join();
  // (shifted)
  std::thread c([] { g_refunds += 1; });
  std::thread d([] { g_refunds -= 1; });
  c.join();
  d.join();
  // (shifted)
  long* tally = open_tally();
  std::thread e([tally] { *tally += 5; });
  std::thread f([tally] { *tally -= 5; });
  e.join();
  f.join();
  long sum = g_orders + g_refunds + *tally;
  delete tally;
  return sum == 1;
}
