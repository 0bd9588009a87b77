// Two unrelated races, each in a small member function that -O1 inlines into the lambda calling it:
// Meter::add races with itself, Flag::raise races with Flag::seen. Lambdas alone would name both
// races alike (operator()); the inlined members are what tell them apart.
#include <thread>

class Meter {
 public:
  void add(long v) { total_ += v; }
  long total() const { return total_; }

 private:
  long total_ = 0;
};

class Flag {
 public:
  void raise() { up_ = true; }
  bool seen() const { return up_; }

 private:
  bool up_ = false;
};

int main() {
  Meter meter;
  std::thread a([&] { for (int i = 0; i < 1000; ++i) meter.add(1); });
  std::thread b([&] { for (int i = 0; i < 1000; ++i) meter.add(2); });
  a.join();
  b.join();
  Flag flag;
  bool last = false;
  std::thread c([&] { flag.raise(); });
  std::thread d([&] { last = flag.seen(); });
  c.join();
  d.join();
  return meter.total() > 0 && last ? 0 : 1;
}
