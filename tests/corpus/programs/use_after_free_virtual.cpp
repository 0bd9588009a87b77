// A worker makes a virtual call on an object main already deleted.
#include <pthread.h>
#include <unistd.h>

struct Handler {
  virtual ~Handler() {}
  virtual int handle() { return 1; }
};

Handler *g_handler;

__attribute__((noinline)) void *dispatch(void *) {
  usleep(200000);
  volatile int r = g_handler->handle();
  (void)r;
  return nullptr;
}

int main() {
  g_handler = new Handler;
  pthread_t th;
  pthread_create(&th, nullptr, dispatch, nullptr);
  delete g_handler;
  pthread_join(th, nullptr);
  return 0;
}
