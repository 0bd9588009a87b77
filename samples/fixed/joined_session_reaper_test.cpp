#include "joined_session_reaper.h"

#include <gtest/gtest.h>

TEST(JoinedSessionReaperFixed, WorkerFinishesBeforeTheSessionGoes) {
  for (int round = 0; round < 20; ++round) serve_join_then_close(50);
}
