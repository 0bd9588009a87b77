// A pool whose destructor writes the flag its worker reads, destroyed in three test functions (field test #26,
// task-thread-pool's header-only pool): the pool's members are built without debug info (the part under
// RACEGATE_NODEBUG_PART), so TSan prints them without a file in the program's own module, as gcc printed the
// header's. (Left inline in a header, the linker kept the copy built with -g.) Signature v4 skipped them and
// keyed the write side on each test: three buckets for one race; v5 keys both sides on the pool's members.
// suppress_equal_addresses=0: the pools of two tests live at one stack address, and TSan would report only one.
// corpus: nodebug_part=1
// corpus: tsan_options=suppress_equal_addresses=0
#include <thread>

namespace tiny {
class pool {
 public:
  pool();
  ~pool();

 private:
  void worker_main();
  volatile bool running_;
  std::thread worker_;
};
}  // namespace tiny

#ifdef RACEGATE_NODEBUG_PART
namespace tiny {
pool::pool() : running_(true), worker_(&pool::worker_main, this) {}

pool::~pool() {
  running_ = false;
  worker_.join();
}

void pool::worker_main() {
  while (running_) std::this_thread::yield();
}
}  // namespace tiny
#else
__attribute__((noinline)) void test_starts_and_stops() { tiny::pool p; }
__attribute__((noinline)) void test_stops_at_once() { tiny::pool p; }
__attribute__((noinline)) void test_two_pools() {
  tiny::pool first;
  tiny::pool second;
}

int main() {
  test_starts_and_stops();
  test_stops_at_once();
  test_two_pools();
  return 0;
}
#endif
