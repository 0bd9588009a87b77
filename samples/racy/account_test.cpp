#include "account.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

TEST(AccountCheckThenAct, TellersNeverOverdraw) {
  // Several rounds of two tellers racing for the last 100: each round may
  // allow only one withdrawal of 60.
  for (int round = 0; round < 5; ++round) {
    Account account(100);
    std::atomic<int> ready{0};
    std::atomic<bool> open{false};
    std::vector<std::thread> tellers;
    for (int t = 0; t < 2; ++t) {
      tellers.emplace_back([&] {
        ++ready;
        while (!open.load()) std::this_thread::yield();
        account.withdraw(60);
      });
    }
    while (ready.load() < 2) std::this_thread::yield();  // both tellers at the counter
    open.store(true);
    for (auto& t : tellers) t.join();
    ASSERT_GE(account.balance(), 0) << "overdrawn in round " << round;
  }
}
