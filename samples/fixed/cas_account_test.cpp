#include "cas_account.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

TEST(CasAccountFixed, TellersNeverOverdraw) {
  for (int round = 0; round < 20; ++round) {
    CasAccount account(100);
    std::atomic<bool> open{false};
    std::atomic<int> approved{0};
    std::vector<std::thread> tellers;
    for (int t = 0; t < 2; ++t) {
      tellers.emplace_back([&] {
        while (!open.load()) std::this_thread::yield();
        if (account.withdraw(60)) ++approved;
      });
    }
    open.store(true);
    for (auto& t : tellers) t.join();
    ASSERT_EQ(approved.load(), 1) << "round " << round;
    ASSERT_EQ(account.balance(), 40) << "round " << round;
  }
}
