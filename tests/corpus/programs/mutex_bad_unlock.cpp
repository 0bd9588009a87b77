// A mutex that is not locked gets unlocked.
#include <pthread.h>

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void release_twice() {
  pthread_mutex_lock(&g_lock);
  pthread_mutex_unlock(&g_lock);
  pthread_mutex_unlock(&g_lock);
}

int main() {
  release_twice();
  return 0;
}
