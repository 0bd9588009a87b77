// A thread unlocks a mutex nobody holds, with the shim preloaded. Under gcc the shim's pthread_mutex_unlock hides
// its caller (see leak_shim_a.c): the report's stack is libtsan, the shim and libc's thread start; what is left of
// the program is the mutex itself (a global) and where the thread was created.
// corpus: preload_shim=1
#include <pthread.h>

pthread_mutex_t g_registry_lock = PTHREAD_MUTEX_INITIALIZER;

static void *unregister(void *arg) {
  (void)arg;
  pthread_mutex_unlock(&g_registry_lock);
  return NULL;
}

int main(void) {
  pthread_mutex_lock(&g_registry_lock);
  pthread_mutex_unlock(&g_registry_lock);
  pthread_t t;
  pthread_create(&t, NULL, unregister, NULL);
  pthread_join(t, NULL);
  return 0;
}
