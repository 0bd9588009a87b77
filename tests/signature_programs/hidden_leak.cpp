// A thread created straight from main and never joined. Run by racegate, whose shim is preloaded: under gcc the
// shim's pthread_create hides main, and the report names nothing of the program (tests/corpus leak_shim_a.c).
// LEAK_NAME only makes two different programs of one source.
#include <pthread.h>
#include <unistd.h>

static int g_finished;

static void *LEAK_NAME(void *) {
  __atomic_store_n(&g_finished, 1, __ATOMIC_RELEASE);
  return nullptr;
}

int main() {
  pthread_t t;
  pthread_create(&t, nullptr, LEAK_NAME, nullptr);
  while (!__atomic_load_n(&g_finished, __ATOMIC_ACQUIRE)) {}
  usleep(100000);  // lets the thread finish: a leaked thread is a finished one nobody joined
  return 0;
}
