// Another program leaking a thread it creates from main, with the shim preloaded (see leak_shim_a.c): under gcc its
// report names nothing of this program either, and must not share leak_shim_a's bucket.
// corpus: preload_shim=1
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int g_polled;

static void *poll_once(void *arg) {
  __atomic_store_n(&g_polled, *(int *)arg, __ATOMIC_RELEASE);
  return NULL;
}

int main(void) {
  static int interval = 5;
  pthread_t poller;
  pthread_create(&poller, NULL, poll_once, &interval);
  while (!__atomic_load_n(&g_polled, __ATOMIC_ACQUIRE)) {}
  usleep(100000);
  printf("polled every %d s\n", interval);
  return 0;
}
