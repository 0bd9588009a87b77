#include "score_keeper.h"

#include <gtest/gtest.h>

#include <future>
#include <vector>

TEST(ChannelScoreKeeperFixed, FourTasksSendPointsToOneOwner) {
  ScoreKeeper keeper;
  std::vector<std::future<void>> tasks;
  for (int t = 0; t < 4; ++t) {
    tasks.push_back(std::async(std::launch::async, [&keeper, t] {
      for (int i = 0; i < 16; ++i) keeper.submit(t * 16 + i);
    }));
  }
  for (auto& task : tasks) task.get();
  EXPECT_EQ(keeper.finish(), 63 * 64 / 2);
}
