#include "score_tally.h"

#include <algorithm>
#include <cstddef>
#include <future>

SeasonSummary tally_scores(const std::vector<Match>& matches, int tasks) {
  bool any_draw = false;
  std::vector<std::future<long>> running;
  const std::size_t chunk = (matches.size() + tasks - 1) / tasks;
  for (int t = 0; t < tasks; ++t) {
    const std::size_t begin = t * chunk;
    const std::size_t end = std::min(matches.size(), begin + chunk);
    // [&] captures `any_draw` by reference: every task may write it.
    running.push_back(std::async(std::launch::async, [&, begin, end] {
      long points = 0;
      for (std::size_t i = begin; i < end; ++i) {
        points += matches[i].home_points + matches[i].away_points;
        if (matches[i].home_points == matches[i].away_points) any_draw = true;
      }
      return points;
    }));
  }
  SeasonSummary summary;
  for (auto& task : running) summary.total_points += task.get();
  summary.any_draw = any_draw;
  return summary;
}
