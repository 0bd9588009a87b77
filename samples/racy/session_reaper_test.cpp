#include "session_reaper.h"

#include <gtest/gtest.h>

TEST(SessionReaperRace, WorkerOutlivesTheSession) {
  for (int round = 0; round < 20; ++round) serve_then_close(50);
}
