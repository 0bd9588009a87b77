#include "account.h"

namespace {
// Length of the audit trail; tuned so the test fails on a minority of plain runs.
constexpr long kAuditSteps = 450;
}  // namespace

bool Account::withdraw(long amount) {
  if (balance_.load() < amount) return false;  // check...
  // The audit trail sits between the check and the act, widening the window
  // in which another teller can pass the same check.
  for (long i = 0; i < kAuditSteps; ++i) audit_log_[i % 8].fetch_add(amount, std::memory_order_relaxed);
  balance_.fetch_sub(amount);  // ...then act on a balance that may have changed
  return true;
}
