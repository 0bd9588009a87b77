#include "cas_account.h"

bool CasAccount::withdraw(long amount) {
  long current = balance_.load();
  do {
    if (current < amount) return false;
  } while (!balance_.compare_exchange_weak(current, current - amount));
  return true;
}
