// One missing lock, two reports (field test #52, libcuckoo's cuckoo_size): each stripe of the table has a spinlock
// (an atomic_flag, as libcuckoo's: TSan sees no mutex) and an element count; add_to_bucket and move_buckets change
// counts under their stripes' locks, size() sums every count without them. TSan reports `add_to_bucket vs size` and
// `move_buckets vs size`, and prints no mutex for either side.
#include <atomic>
#include <thread>

struct stripe {
  std::atomic_flag flag = ATOMIC_FLAG_INIT;
  long elems = 0;
  void lock() { while (flag.test_and_set(std::memory_order_acquire)) {} }
  void unlock() { flag.clear(std::memory_order_release); }
};

class striped_table {
 public:
  striped_table() : stripes_(new stripe[4]) {}
  ~striped_table() { delete[] stripes_; }
  __attribute__((noinline)) void add_to_bucket(int s) {
    stripes_[s].lock();
    stripes_[s].elems = stripes_[s].elems + 1;
    stripes_[s].unlock();
  }
  __attribute__((noinline)) void move_buckets(int from, int to) {
    stripes_[from].lock();
    stripes_[to].lock();
    stripes_[to].elems = stripes_[to].elems + stripes_[from].elems;
    stripes_[from].elems = 0;
    stripes_[to].unlock();
    stripes_[from].unlock();
  }
  __attribute__((noinline)) long size() const {
    long n = 0;
    for (int s = 0; s < 4; ++s) n += stripes_[s].elems;
    return n;
  }

 private:
  stripe* stripes_;
};

volatile long g_size;  // keeps the calls: gcc drops a pure call whose result is unused

int main() {
  striped_table* t = new striped_table;
  std::thread adder([t] { for (int i = 0; i < 2000; ++i) t->add_to_bucket(0); });
  std::thread mover([t] { for (int i = 0; i < 2000; ++i) t->move_buckets(2, 3); });
  std::thread sizer([t] { for (int i = 0; i < 2000; ++i) g_size = t->size(); });
  adder.join();
  mover.join();
  sizer.join();
  delete t;
}
