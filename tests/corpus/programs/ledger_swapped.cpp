// corpus: source_name=ledger.cpp
// The ledger race with the order flipped: main reports first, the worker credits later,
// so TSan prints the other thread's access first.
#include <pthread.h>
#include <unistd.h>

long g_balance = 0;

__attribute__((noinline)) void *credit(void *) {
  usleep(100000);
  g_balance += 100;
  return nullptr;
}

__attribute__((noinline)) long report() { return g_balance; }

int main() {
  pthread_t th;
  pthread_create(&th, nullptr, credit, nullptr);
  long v = report();
  pthread_join(th, nullptr);
  return v == 1;
}
