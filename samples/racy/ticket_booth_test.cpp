#include "ticket_booth.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#ifndef TICKET_BOOTH_SEATS
// Seats per round: few enough that a clerk usually sells them all before the next clerk has started,
// which keeps the plain failure rate near 1-2 % (samples/README.md).
#define TICKET_BOOTH_SEATS 100
#endif
#ifndef TICKET_BOOTH_ROUNDS
#define TICKET_BOOTH_ROUNDS 10
#endif

TEST(TicketBoothCheckThenAct, ClerksNeverOversell) {
  for (int round = 0; round < TICKET_BOOTH_ROUNDS; ++round) {
    TicketBooth booth(TICKET_BOOTH_SEATS);
    std::vector<std::thread> clerks;
    for (int c = 0; c < 3; ++c) {
      clerks.emplace_back([&] {
        while (booth.sell() >= 0) {
        }
      });
    }
    for (auto& clerk : clerks) clerk.join();
    ASSERT_GE(booth.left(), 0) << "oversold in round " << round;
  }
}
