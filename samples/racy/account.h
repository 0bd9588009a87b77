// Account: a balance shared by several tellers.
//
// What goes wrong: withdraw() is check-then-act on an atomic:
//   if (balance_.load() >= amount) { ...; balance_.fetch_sub(amount); }
// Every access is atomic, so there is no data race and ThreadSanitizer stays
// silent. But two tellers can both pass the check before either subtracts,
// and the account goes below zero. Only the test's assertion catches it, and
// only on some runs: the bug is a flaky test, not a TSan report.
//
// Fix: fixed/cas_account.h (compare_exchange loop: check and subtract in one
// atomic step).
#pragma once

#include <atomic>

class Account {
 public:
  explicit Account(long balance) : balance_(balance) {}
  // Withdraws `amount` if the balance covers it; true on success.
  bool withdraw(long amount);
  long balance() const { return balance_.load(); }

 private:
  std::atomic<long> balance_;
  std::atomic<long> audit_log_[8] = {};
};
