#include "stock_levels.h"

StockLevels::StockLevels() {
  // No rehash during the test: keeps the race silent instead of crashing.
  quantities_.reserve(128);
}

void StockLevels::set(const std::string& item, int quantity) {
  quantities_[item] = quantity;  // unsynchronized write
}

int StockLevels::get(const std::string& item) const {
  auto it = quantities_.find(item);  // unsynchronized read
  return it == quantities_.end() ? -1 : it->second;
}
