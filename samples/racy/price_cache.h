// PriceCache: memoizes an expensive price computation for worker threads.
//
// What goes wrong: lookup() checks the cache, computes on a miss and stores
// the result, all without a lock. One worker's insert (bucket array, element
// count, node links) races with another worker's find or insert. Results stay
// right most of the time because the value is deterministic, which is why
// this bug survives code review.
//
// TSan: "data race" inside the inlined std::_Hashtable code, called from
// PriceCache::lookup on both sides.
// Fix: fixed/rate_table.h shows std::call_once for one-time initialization;
// a per-key memo needs a std::mutex (see fixed/locked_word_counter.h) or
// shards (fixed/sharded_word_counter.h).
#pragma once

#include <unordered_map>

class PriceCache {
 public:
  PriceCache();
  // Price in cents of `quantity` units of product `sku`, computed once per key.
  long lookup(int sku, int quantity);
  int computations() const { return computations_; }

 private:
  static long compute(int sku, int quantity);
  std::unordered_map<long, long> memo_;
  int computations_ = 0;
};
