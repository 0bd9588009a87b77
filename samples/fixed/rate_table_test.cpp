#include "rate_table.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

TEST(CallOnceRateTableFixed, WorkersLoadTheTableOnce) {
  RateTable table;
  double results[4] = {0, 0, 0, 0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&table, &results, w] { results[w] = table.rate(RateTable::kEUR, RateTable::kUSD); });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(table.loads(), 1);
  for (double r : results) EXPECT_DOUBLE_EQ(r, 1.08);
}
