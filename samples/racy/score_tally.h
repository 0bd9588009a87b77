// tally_scores: sums a season's points on several std::async tasks and notes
// whether any match was a draw.
//
// What goes wrong: each task is a lambda with a by-reference default capture
// ([&]). The partial sums come back correctly through the futures, but the
// "any draw?" flag is the captured local `any_draw`, which every task writes
// when it sees a draw. "They all write true, so it can't hurt" is the usual
// defence; it is still a data race (undefined behaviour: the compiler may
// keep the flag in a register, split or reorder the store), and the same [&]
// habit loses updates as soon as the shared variable is a counter.
//
// TSan: "data race", a write in the lambda inside tally_scores against a
// previous write by another task.
// Fix: return everything through the futures, make the flag std::atomic<bool>,
// or give the state one owner (fixed/score_keeper.h, channel style).
#pragma once

#include <vector>

struct Match {
  int home_points;
  int away_points;
};

struct SeasonSummary {
  long total_points = 0;
  bool any_draw = false;
};

// Summary of all matches, computed with `tasks` std::async tasks.
SeasonSummary tally_scores(const std::vector<Match>& matches, int tasks);
