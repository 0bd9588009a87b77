// Two code paths take the same two mutexes in opposite orders.
#include <mutex>
#include <thread>

std::mutex g_accounts;
std::mutex g_audit;

__attribute__((noinline)) void transfer() {
  std::lock_guard<std::mutex> a(g_accounts);
  std::lock_guard<std::mutex> b(g_audit);
}

__attribute__((noinline)) void audit() {
  std::lock_guard<std::mutex> b(g_audit);
  std::lock_guard<std::mutex> a(g_accounts);
}

int main() {
  std::thread t1(transfer);
  t1.join();
  std::thread t2(audit);
  t2.join();
  return 0;
}
