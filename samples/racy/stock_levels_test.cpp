#include "stock_levels.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

TEST(StockLevelsRace, StorefrontReadsWhileRestockWrites) {
  StockLevels stock;
  stock.set("apple", 10);
  std::thread restock([&] {
    for (int i = 0; i < 20; ++i) stock.set("apple", 10 + i);
    stock.set("pear", 5);
  });
  int seen = 0;
  for (int i = 0; i < 20; ++i) seen = stock.get("apple");
  restock.join();
  EXPECT_GE(seen, 10);
  EXPECT_EQ(stock.get("pear"), 5);
}
