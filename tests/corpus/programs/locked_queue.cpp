// One missing lock, two reports (field test #52, atomic_queue's AtomicQueueMutexT): try_push and try_pop write
// tail and head under the queue's mutex, was_empty reads both without it. TSan reports `try_push vs was_empty` and
// `try_pop vs was_empty` (one address each); v5 keyed two buckets, v6 keys both on the unlocked side, was_empty.
// The queue lives on main's stack, as the field test's did, so TSan names no memory.
#include <mutex>
#include <thread>

class locked_queue {
 public:
  __attribute__((noinline)) bool try_push(unsigned v) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (tail_ - head_ == 64) return false;
    slots_[tail_ % 64] = v;
    tail_ = tail_ + 1;
    return true;
  }
  __attribute__((noinline)) bool try_pop(unsigned& v) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (tail_ == head_) return false;
    v = slots_[head_ % 64];
    head_ = head_ + 1;
    return true;
  }
  __attribute__((noinline)) bool was_empty() const { return head_ == tail_; }

 private:
  std::mutex mutex_;
  unsigned head_ = 0;
  unsigned tail_ = 0;
  unsigned slots_[64] = {};
};

volatile int g_seen_empty;  // keeps the calls: gcc drops a pure call whose result is unused

int main() {
  locked_queue q;
  std::thread producer([&q] { for (unsigned i = 0; i < 2000; ++i) q.try_push(i); });
  std::thread consumer([&q] { unsigned v; for (int i = 0; i < 2000; ++i) q.try_pop(v); });
  std::thread watcher([&q] { for (int i = 0; i < 2000; ++i) g_seen_empty = g_seen_empty + q.was_empty(); });
  producer.join();
  consumer.join();
  watcher.join();
}
