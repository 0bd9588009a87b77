// Three races in one file, each between two lambdas run by two threads: on a global, on a global in an anonymous
// namespace, and on a heap block. Every side is a lambda's operator(), so only the racing memory tells the three
// bugs apart (signature v3).
#include <thread>

long g_orders = 0;

namespace {
long g_refunds = 0;
}

long* open_tally() { return new long(0); }

int main() {
  std::thread a([] { g_orders += 2; });
  std::thread b([] { g_orders += 3; });
  a.join();
  b.join();
  std::thread c([] { g_refunds += 1; });
  std::thread d([] { g_refunds -= 1; });
  c.join();
  d.join();
  long* tally = open_tally();
  std::thread e([tally] { *tally += 5; });
  std::thread f([tally] { *tally -= 5; });
  e.join();
  f.join();
  long sum = g_orders + g_refunds + *tally;
  delete tally;
  return sum == 1;
}
