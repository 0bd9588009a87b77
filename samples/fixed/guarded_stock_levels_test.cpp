#include "guarded_stock_levels.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

TEST(SharedMutexStockLevelsFixed, StorefrontsReadWhileRestockWrites) {
  GuardedStockLevels stock;
  stock.set("apple", 10);
  std::thread restock([&] {
    for (int i = 0; i < 20; ++i) stock.set("apple", 10 + i);
    stock.set("pear", 5);
  });
  int seen[2] = {0, 0};
  std::vector<std::thread> storefronts;
  for (int s = 0; s < 2; ++s) {
    storefronts.emplace_back([&stock, &seen, s] {
      for (int i = 0; i < 20; ++i) seen[s] = stock.get("apple");
    });
  }
  restock.join();
  for (auto& t : storefronts) t.join();
  EXPECT_GE(seen[0], 10);
  EXPECT_GE(seen[1], 10);
  EXPECT_EQ(stock.get("apple"), 29);
  EXPECT_EQ(stock.get("pear"), 5);
}
