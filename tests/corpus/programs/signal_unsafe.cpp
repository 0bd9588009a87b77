// A signal handler allocates memory, which is not async-signal-safe.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) void on_profile(int, siginfo_t *, void *) {
  volatile char *p = static_cast<char *>(malloc(16));
  p[0] = 1;
  free(const_cast<char *>(p));
}

int main() {
  struct sigaction act = {};
  act.sa_sigaction = on_profile;
  act.sa_flags = SA_SIGINFO;
  sigaction(SIGPROF, &act, nullptr);
  kill(getpid(), SIGPROF);
  usleep(100000);
  return 0;
}
