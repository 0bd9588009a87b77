// One function racing with itself on two globals (field test #23, libevent's event_base_new_with_config):
// several threads run configure(), which writes both without a lock. Two races: signature v4 keyed both
// `configure vs configure`, one bucket; v5 adds each one's global. self_race_one.c is the fix of the first.
// (self_race_one.c defines PROTECT_MODE on this line, so the lines of both stay aligned.)
// corpus: source_name=self_race.c
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
