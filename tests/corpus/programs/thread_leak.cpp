// A thread is created and never joined nor detached.
#include <pthread.h>
#include <unistd.h>

__attribute__((noinline)) void *background(void *) { return nullptr; }

__attribute__((noinline)) void start_background() {
  pthread_t th;
  pthread_create(&th, nullptr, background, nullptr);
}

int main() {
  start_background();
  usleep(100000);
  return 0;
}
