#include "price_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

TEST(PriceCacheRace, WorkersShareOneMemo) {
  PriceCache cache;
  long sums[3] = {0, 0, 0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&cache, &sums, w] {
      for (int sku = 0; sku < 8; ++sku) sums[w] += cache.lookup(sku, 12);
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(sums[0], sums[1]);
  EXPECT_EQ(sums[1], sums[2]);
}
