// One thread frees a block and then reads it: a destructor called by hand, then the block used again.
// TSan reports heap-use-after-free with both stacks "by main thread"; no second thread takes part.
#include <cstdio>

struct Session {
  int *refs = new int(1);
  ~Session() { delete refs; }
};

int read_refs(const int *refs) { return *refs; }

int main() {
  Session *s = new Session;
  int *refs = s->refs;
  s->~Session();  // the block behind refs is freed here
  std::printf("%d\n", read_refs(refs));
  ::operator delete(s);
  return 0;
}
