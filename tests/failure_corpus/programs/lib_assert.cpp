// A library's own assert macro, as libzmq's zmq_assert and several C libraries print it: `Assertion failed:
// EXPR (FILE:LINE)` on stderr, then abort(). Field tests #43: this became `crash: ... killed by SIGABRT`.
#include <cstdio>
#include <cstdlib>
#include <thread>

#define lib_assert(x)                                                                    \
  do {                                                                                   \
    if (!(x)) {                                                                          \
      std::fprintf(stderr, "Assertion failed: %s (%s:%d)\n", #x, __FILE__, __LINE__);   \
      std::fflush(stderr);                                                               \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

struct Poller {
  int load = 1;  // a socket still registered when the poller is destroyed
  int get_load() const { return load; }
  ~Poller() { lib_assert(get_load() == 0); }
};

int main() {
  std::thread worker([] { Poller poller; });
  worker.join();
  return 0;
}
