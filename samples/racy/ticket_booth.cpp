#include "ticket_booth.h"

int TicketBooth::sell() {
  if (left_.load() <= 0) return -1;         // check...
  int serial = next_serial_.fetch_add(1);   // issue the ticket
  left_.fetch_sub(1);                       // ...then act on a count that may have changed
  return serial;
}
