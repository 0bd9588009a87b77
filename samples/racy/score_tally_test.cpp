#include "score_tally.h"

#include <gtest/gtest.h>

TEST(ScoreTallyRace, FourTasksSumOneSeason) {
  std::vector<Match> season;
  for (int i = 0; i < 64; ++i) season.push_back({i % 4, i % 3});  // a draw every few matches
  long expected = 0;
  for (const Match& m : season) expected += m.home_points + m.away_points;
  const SeasonSummary summary = tally_scores(season, 4);
  EXPECT_EQ(summary.total_points, expected);
  EXPECT_TRUE(summary.any_draw);
}
