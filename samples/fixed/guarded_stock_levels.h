// GuardedStockLevels: racy/stock_levels.h for a read-mostly map, guarded by
// a std::shared_mutex.
//
// Why it works: readers take a shared lock, so many get() calls run in
// parallel; set() takes the exclusive lock, which waits for all readers to
// leave and keeps new ones out. Each writer's unlock happens-before every
// later reader's lock (and each reader's unlock before the next writer's
// lock), so a read never overlaps a write.
#pragma once

#include <shared_mutex>
#include <string>
#include <unordered_map>

class GuardedStockLevels {
 public:
  void set(const std::string& item, int quantity);
  // -1 when the item is unknown.
  int get(const std::string& item) const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, int> quantities_;
};
