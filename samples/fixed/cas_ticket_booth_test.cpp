#include "cas_ticket_booth.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

TEST(CasTicketBoothFixed, ClerksNeverOversell) {
  for (int round = 0; round < 10; ++round) {
    CasTicketBooth booth(100);
    std::atomic<int> sold{0};
    std::vector<std::thread> clerks;
    for (int c = 0; c < 3; ++c) {
      clerks.emplace_back([&] {
        while (booth.sell() >= 0) ++sold;
      });
    }
    for (auto& clerk : clerks) clerk.join();
    ASSERT_EQ(booth.left(), 0) << "round " << round;
    ASSERT_EQ(sold.load(), 100) << "round " << round;
  }
}
