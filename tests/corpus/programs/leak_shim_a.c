// A thread created straight from main and never joined, run with racegate's shim preloaded. Under gcc the shim's
// pthread_create sits above TSan's and has no frame pointer, so the creation stack skips main: libtsan, the shim,
// __libc_start_call_main. Nothing of the program is left; leak_shim_b.c is another program with the same report.
// corpus: preload_shim=1
#include <pthread.h>
#include <unistd.h>

static int g_finished;

static void *linger(void *arg) {
  (void)arg;
  __atomic_store_n(&g_finished, 1, __ATOMIC_RELEASE);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, linger, NULL);
  while (!__atomic_load_n(&g_finished, __ATOMIC_ACQUIRE)) {}
  usleep(100000);  // lets the thread finish: a leaked thread is a finished one nobody joined
  return 0;
}
