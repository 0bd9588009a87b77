#include "ticket_booth.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {
// Seats per round: few enough that a clerk usually sells them all before the next clerk has started,
// which keeps the plain failure rate near 1 % (samples/README.md).
constexpr int kSeats = 100;
constexpr int kRounds = 10;
}  // namespace

TEST(TicketBoothCheckThenAct, ClerksNeverOversell) {
  for (int round = 0; round < kRounds; ++round) {
    TicketBooth booth(kSeats);
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
