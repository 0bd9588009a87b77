#include "rate_table.h"

void RateTable::load() {
  ++loads_;
  per_euro_ = {1.0, 1.08, 0.86, 162.0};
}

double RateTable::rate(Currency from, Currency to) {
  std::call_once(loaded_, [this] { load(); });
  return per_euro_[to] / per_euro_[from];
}
