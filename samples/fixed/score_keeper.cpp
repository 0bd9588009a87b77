#include "score_keeper.h"

ScoreKeeper::ScoreKeeper() : owner_([this] { own_total(); }) {}

ScoreKeeper::~ScoreKeeper() { finish(); }

void ScoreKeeper::own_total() {
  while (std::optional<long> points = inbox_.receive()) total_ += *points;
}

long ScoreKeeper::finish() {
  if (owner_.joinable()) {
    inbox_.close();
    owner_.join();  // the owner's last write happens-before this returns
  }
  return total_;
}
