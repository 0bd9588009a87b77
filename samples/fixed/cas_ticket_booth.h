// CasTicketBooth: racy/ticket_booth.h with the check and the sale fused into one atomic step.
//
// Why it works: sell() reads the seats left, and installs one fewer with
// compare_exchange_weak, which succeeds only if the count is still the one
// that was checked. If another clerk sold a seat in between, the exchange
// fails, reloads the count and checks again, so no clerk ever sells a seat
// that the count no longer has.
#pragma once

#include <atomic>

class CasTicketBooth {
 public:
  explicit CasTicketBooth(int seats) : left_(seats) {}
  // Sells one seat; its serial number, or -1 when none is left.
  int sell();
  int left() const { return left_.load(); }

 private:
  std::atomic<int> left_;
  std::atomic<int> next_serial_{0};
};
