// A heap-allocated struct written by a worker and read by main without synchronization.
#include <pthread.h>
#include <unistd.h>

struct Totals {
  long sum;
};

__attribute__((noinline)) void *accumulate(void *arg) {
  static_cast<Totals *>(arg)->sum += 42;
  return nullptr;
}

__attribute__((noinline)) long read_total(const Totals *t) { return t->sum; }

int main() {
  Totals *t = new Totals{0};
  pthread_t th;
  pthread_create(&th, nullptr, accumulate, t);
  usleep(100000);
  long v = read_total(t);
  pthread_join(th, nullptr);
  delete t;
  return v == 7;
}
