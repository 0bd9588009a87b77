// A race whose earlier access TSan can no longer place: the writer keeps running, and by the time the reader
// comes its history of 32K events (history_size=0) has been overwritten by busy_work's lock operations.
// gcc 12's runtime prints the previous access as "[failed to restore the stack]"; clang 14's still restores it.
// stack_restore_full.c is the same source with no busy work: the full report of the same race.
// corpus: source_name=stack_restore.c
// corpus: tsan_options=history_size=0
#define BUSY_ITERATIONS 8000
#include <pthread.h>
#include <stdio.h>

int g_status;
volatile long g_scratch[64];
static int g_done, g_seen;
static pthread_mutex_t g_own = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void busy_work(long n) {
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&g_own);
    g_scratch[i & 63] = i;
    pthread_mutex_unlock(&g_own);
  }
}

__attribute__((noinline)) void set_status(void) { g_status = 1; }

static void *worker(void *arg) {
  (void)arg;
  set_status();
  busy_work(BUSY_ITERATIONS);
  // Relaxed atomics order nothing for TSan: the reader still races with set_status.
  __atomic_store_n(&g_done, 1, __ATOMIC_RELAXED);
  while (!__atomic_load_n(&g_seen, __ATOMIC_RELAXED)) {}
  return NULL;
}

__attribute__((noinline)) int read_status(void) { return g_status; }

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!__atomic_load_n(&g_done, __ATOMIC_RELAXED)) {}
  printf("status %d\n", read_status());
  __atomic_store_n(&g_seen, 1, __ATOMIC_RELAXED);
  pthread_join(t, NULL);
  return 0;
}
