// self_race_two.c with its first race fixed (g_mode_too_late written under a lock): the race left on
// g_created_ctx keeps its id, and is not the id of the fixed race (under v4 it was: field test #23).
// The same source as self_race_two.c, built with PROTECT_MODE.
// corpus: source_name=self_race.c
#define PROTECT_MODE 1
#include <pthread.h>

int g_mode_too_late;
int g_created_ctx;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void configure(void) {
#ifdef PROTECT_MODE
  pthread_mutex_lock(&g_lock);
#endif
  g_mode_too_late = 1;
#ifdef PROTECT_MODE
  pthread_mutex_unlock(&g_lock);
#endif
  g_created_ctx = g_created_ctx + 1;
}

static void *worker(void *arg) {
  (void)arg;
  configure();
  return 0;
}

int main(void) {
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) pthread_create(&threads[i], 0, worker, 0);
  for (int i = 0; i < 4; i++) pthread_join(threads[i], 0);
  (void)g_lock;
  return 0;
}
