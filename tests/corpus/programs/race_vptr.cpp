// A worker makes a virtual call while main destroys the object: the base destructor
// rewrites the vptr before running its body.
#include <pthread.h>
#include <unistd.h>

struct Shape;
__attribute__((noinline)) void forget(Shape *s);

struct Shape {
  virtual ~Shape() { forget(this); }
  virtual int sides() { return 0; }
};

struct Square : Shape {
  int sides() override { return 4; }
};

Shape *volatile g_last_forgotten;
__attribute__((noinline)) void forget(Shape *s) { g_last_forgotten = s; }

Shape *g_shape;

__attribute__((noinline)) void *measure(void *) {
  volatile int n = g_shape->sides();
  (void)n;
  return nullptr;
}

int main() {
  g_shape = new Square;
  pthread_t th;
  pthread_create(&th, nullptr, measure, nullptr);
  usleep(200000);
  delete g_shape;
  pthread_join(th, nullptr);
  return 0;
}
