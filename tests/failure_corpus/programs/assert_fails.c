/* A plain assert() failing on a worker thread: abort() with glibc's "Assertion ... failed" line. */
#include <assert.h>
#include <pthread.h>
#include <stddef.h>

static int balance = -30;

static void* check_balance(void* arg) {
  (void)arg;
  assert(balance >= 0 && "balance went negative");
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, check_balance, NULL);
  pthread_join(t, NULL);
  return 0;
}
