// A worker writes a local variable of main's stack while main reads it.
#include <pthread.h>
#include <unistd.h>

__attribute__((noinline)) void *set_flag(void *arg) {
  *static_cast<int *>(arg) = 1;
  return nullptr;
}

__attribute__((noinline)) int read_flag(const volatile int *flag) { return *flag; }

int main() {
  int flag = 0;
  pthread_t th;
  pthread_create(&th, nullptr, set_flag, &flag);
  usleep(100000);
  int v = read_flag(&flag);
  pthread_join(th, nullptr);
  return v == 5;
}
