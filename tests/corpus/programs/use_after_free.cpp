// A worker writes to a heap object after main deleted it.
#include <pthread.h>
#include <unistd.h>

struct Session {
  int state;
};

Session *g_session;

__attribute__((noinline)) void *touch_session(void *) {
  usleep(200000);
  g_session->state = 9;
  return nullptr;
}

int main() {
  g_session = new Session{1};
  pthread_t th;
  pthread_create(&th, nullptr, touch_session, nullptr);
  delete g_session;
  pthread_join(th, nullptr);
  return 0;
}
