// A use after free through a project's own free wrapper whose name is no allocator's (store_release): a side
// unless the project names it with --allocator-wrappers.
#include <pthread.h>
#include <stdlib.h>

struct store { int items; };

static store *g_store;
static int g_closed;

__attribute__((noinline)) void store_release(void *block) { free(block); }

__attribute__((noinline)) void close_store(store *s) { store_release(s); }

__attribute__((noinline)) int count_items(const store *s) { return s->items; }

static void *reader(void *) {
  while (!__atomic_load_n(&g_closed, __ATOMIC_RELAXED)) {}
  return reinterpret_cast<void *>(static_cast<long>(count_items(g_store)));
}

int main() {
  g_store = static_cast<store *>(calloc(1, sizeof(store)));
  pthread_t t;
  pthread_create(&t, nullptr, reader, nullptr);
  close_store(g_store);
  __atomic_store_n(&g_closed, 1, __ATOMIC_RELAXED);
  pthread_join(t, nullptr);
  return 0;
}
