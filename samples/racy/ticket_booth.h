// TicketBooth: the seats left for a show, sold by several box-office threads.
//
// What goes wrong: sell() is check-then-act on an atomic:
//   if (left_.load() > 0) { issue a serial; left_.fetch_sub(1); }
// Every access is atomic, so there is no data race and ThreadSanitizer stays
// silent. But a clerk that passed the check can fall behind while another
// sells the remaining seats, and then it subtracts from zero: the show is
// oversold. The clerks rarely overlap at the last seat (each round's clerks
// start one after another and the seats go fast), so the test fails on only
// about one plain run in a hundred (fewer with gcc): a flaky test that no
// pthread call and no data race points at.
//
// Fix: fixed/cas_ticket_booth.h (compare_exchange loop: the check and the
// subtraction are one atomic step).
#pragma once

#include <atomic>

class TicketBooth {
 public:
  explicit TicketBooth(int seats) : left_(seats) {}
  // Sells one seat; its serial number, or -1 when none is left.
  int sell();
  int left() const { return left_.load(); }

 private:
  std::atomic<int> left_;
  std::atomic<int> next_serial_{0};
};
