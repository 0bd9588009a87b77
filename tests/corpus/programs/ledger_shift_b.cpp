// corpus: source_name=ledger.cpp
// A balance credited by a worker and reported by main without a lock.
//
// This copy is ledger_shift_a.cpp with lines inserted above the race, so every
// line number in the report moves while the race stays the same.
#include <pthread.h>
#include <unistd.h>


// The running balance of the ledger.
long g_balance = 0;



// Adds a credit; called on a worker thread.
__attribute__((noinline)) void *credit(void *) {

  g_balance += 100;
  return nullptr;
}


// Reads the balance for the monthly report.
__attribute__((noinline)) long report() {
  return g_balance;
}

int main() {
  pthread_t th;
  pthread_create(&th, nullptr, credit, nullptr);
  usleep(100000);
  long v = report();
  pthread_join(th, nullptr);
  return v == 1;
}
