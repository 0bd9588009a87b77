// RateTable: exchange rates loaded lazily, once, by whichever worker needs
// them first.
//
// Why it works: std::call_once runs load() exactly once even when several
// threads call rate() at the same moment; the others block until it has
// returned. The completed call_once happens-before every later return from
// call_once on the same flag, so every thread sees the fully built table
// without taking a lock on the fast path. (The racy version is the
// "if (!loaded_) { load(); loaded_ = true; }" pattern, see
// racy/price_cache.h for the same check-then-fill mistake on a memo.)
#pragma once

#include <array>
#include <mutex>

class RateTable {
 public:
  enum Currency { kEUR, kUSD, kGBP, kJPY, kCount };
  // Value of one unit of `from` in `to`.
  double rate(Currency from, Currency to);
  int loads() const { return loads_; }

 private:
  void load();
  std::once_flag loaded_;
  std::array<double, kCount> per_euro_{};
  int loads_ = 0;
};
