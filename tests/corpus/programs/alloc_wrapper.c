// Two lifetime bugs of a C library that allocates and frees through its own thin wrappers (lib_alloc, lib_free):
// close_session frees the session and drop_cache the cache while a worker still reads each through read_refs.
// The wrappers say nothing of either bug: keyed on lib_free, both would be one bucket. They are not inlined, as a
// wrapper in another file of the library would not be.
#include <pthread.h>
#include <stdlib.h>

struct session { int refs; };
struct cache { int refs; };

static int g_closed;

__attribute__((noinline)) void *lib_alloc(size_t size) { return calloc(1, size); }

__attribute__((noinline)) void lib_free(void *block) { free(block); }

__attribute__((noinline)) int read_refs(const int *refs) { return *refs; }

__attribute__((noinline)) void close_session(struct session *s) { lib_free(s); }

__attribute__((noinline)) void drop_cache(struct cache *c) { lib_free(c); }

static struct session *g_session;
static struct cache *g_cache;

static void *worker(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&g_closed, __ATOMIC_RELAXED)) {}
  return (void *)(long)(read_refs(&g_session->refs) + read_refs(&g_cache->refs));
}

int main(void) {
  g_session = lib_alloc(sizeof *g_session);
  g_cache = lib_alloc(sizeof *g_cache);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  close_session(g_session);
  drop_cache(g_cache);
  __atomic_store_n(&g_closed, 1, __ATOMIC_RELAXED);
  pthread_join(t, NULL);
  return 0;
}
