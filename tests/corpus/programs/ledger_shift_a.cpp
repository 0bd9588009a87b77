// corpus: source_name=ledger.cpp
// A balance credited by a worker and reported by main without a lock.
#include <pthread.h>
#include <unistd.h>

long g_balance = 0;

__attribute__((noinline)) void *credit(void *) {
  g_balance += 100;
  return nullptr;
}

__attribute__((noinline)) long report() { return g_balance; }

int main() {
  pthread_t th;
  pthread_create(&th, nullptr, credit, nullptr);
  usleep(100000);
  long v = report();
  pthread_join(th, nullptr);
  return v == 1;
}
