#include "cas_ticket_booth.h"

int CasTicketBooth::sell() {
  int left = left_.load();
  do {
    if (left <= 0) return -1;
  } while (!left_.compare_exchange_weak(left, left - 1));
  return next_serial_.fetch_add(1);
}
