// StockLevels: a warehouse's item -> quantity map. A restocking thread
// updates it while a storefront thread reads it.
//
// What goes wrong: set() inserts and overwrites entries while get() walks
// the same std::unordered_map from another thread, with no lock. A reader
// can see a half-linked node or a torn quantity; a rehash during a lookup
// can make the reader follow freed memory.
//
// TSan: "data race", a write in StockLevels::set against a read in
// StockLevels::get (or the other order).
// Fix: fixed/guarded_stock_levels.h (std::shared_mutex: many readers, one writer).
#pragma once

#include <string>
#include <unordered_map>

class StockLevels {
 public:
  StockLevels();
  void set(const std::string& item, int quantity);
  // -1 when the item is unknown.
  int get(const std::string& item) const;

 private:
  std::unordered_map<std::string, int> quantities_;
};
