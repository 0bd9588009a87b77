// A lambda captures a local by reference and two threads run it.
#include <thread>

int main() {
  int balance = 0;
  auto deposit = [&balance] {
    for (int i = 0; i < 1000; ++i) balance += 2;
  };
  std::thread a(deposit);
  std::thread b(deposit);
  a.join();
  b.join();
  return balance == 1;
}
