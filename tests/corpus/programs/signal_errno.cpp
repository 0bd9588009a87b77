// A signal handler overwrites errno without saving and restoring it.
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_t g_main;
static volatile int g_done;

__attribute__((noinline)) void on_alarm(int, siginfo_t *, void *) {
  errno = EINTR;
  g_done = 1;
}

__attribute__((noinline)) void *poke_main(void *) {
  usleep(100000);
  pthread_kill(g_main, SIGPROF);
  return nullptr;
}

__attribute__((noinline)) void busy_wait() {
  while (g_done == 0) {
    volatile char *p = static_cast<char *>(malloc(1));
    p[0] = 0;
    free(const_cast<char *>(p));
    sched_yield();
  }
}

int main() {
  g_main = pthread_self();
  struct sigaction act = {};
  act.sa_sigaction = on_alarm;
  act.sa_flags = SA_SIGINFO;
  sigaction(SIGPROF, &act, nullptr);
  pthread_t th;
  pthread_create(&th, nullptr, poke_main, nullptr);
  busy_wait();
  pthread_join(th, nullptr);
  return 0;
}
