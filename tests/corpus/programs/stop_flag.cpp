// One unsynchronized flag, two reports (field test #41, libzmq's poll_t::stopping): stop() sets a plain bool from
// the main thread and from the worker, loop() reads it. TSan reports `stop vs stop` (write/write) and `loop vs stop`
// (read/write); no side holds a lock. The poller is a heap object, so TSan names its block.
// TSan reports one race per address by default; both pairs race on the one flag.
// corpus: tsan_options=suppress_equal_addresses=0
#include <thread>

class poller {
 public:
  __attribute__((noinline)) void stop() { stopping_ = true; }
  // As libzmq's I/O thread: run until stopped, then stop (process_stop) itself.
  __attribute__((noinline)) void loop() {
    while (!stopping_) {
      ++turns_;
      asm volatile("" ::: "memory");  // reload the flag each turn, as the real loop's poll() call makes it
    }
    stop();
  }

 private:
  bool stopping_ = false;
  long turns_ = 0;
};

int main() {
  poller* p = new poller;
  std::thread worker([p] { p->loop(); });
  p->stop();
  worker.join();
  delete p;
}
