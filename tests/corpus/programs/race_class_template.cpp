// A member function of a class template races with itself.
#include <thread>

template <typename T>
class Accumulator {
 public:
  __attribute__((noinline)) void push(T v) { total_ += v; }
  T total() const { return total_; }

 private:
  T total_{};
};

Accumulator<long> g_acc;

int main() {
  std::thread a([] { for (int i = 0; i < 1000; ++i) g_acc.push(i); });
  std::thread b([] { for (int i = 0; i < 1000; ++i) g_acc.push(i); });
  a.join();
  b.join();
  return g_acc.total() == 3;
}
