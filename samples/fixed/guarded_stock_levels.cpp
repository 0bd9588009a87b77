#include "guarded_stock_levels.h"

#include <mutex>

void GuardedStockLevels::set(const std::string& item, int quantity) {
  std::unique_lock<std::shared_mutex> hold(mutex_);
  quantities_[item] = quantity;
}

int GuardedStockLevels::get(const std::string& item) const {
  std::shared_lock<std::shared_mutex> hold(mutex_);
  auto it = quantities_.find(item);
  return it == quantities_.end() ? -1 : it->second;
}
