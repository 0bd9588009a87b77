// A mutex is destroyed while still locked.
#include <pthread.h>

__attribute__((noinline)) void teardown(pthread_mutex_t *m) { pthread_mutex_destroy(m); }

int main() {
  pthread_mutex_t m;
  pthread_mutex_init(&m, nullptr);
  pthread_mutex_lock(&m);
  teardown(&m);
  return 0;
}
