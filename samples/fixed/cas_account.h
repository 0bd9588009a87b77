// CasAccount: racy/account.h with check and act fused into one atomic step.
//
// Why it works: withdraw() reads the balance, computes the new one and
// installs it with compare_exchange_weak, which succeeds only if the
// balance is still the value that was checked. If another teller got there
// first the exchange fails, reloads the current balance and the check runs
// again, so no withdrawal is ever approved against a stale balance.
#pragma once

#include <atomic>

class CasAccount {
 public:
  explicit CasAccount(long balance) : balance_(balance) {}
  bool withdraw(long amount);
  long balance() const { return balance_.load(); }

 private:
  std::atomic<long> balance_;
};
