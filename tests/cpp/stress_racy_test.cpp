// Unsynchronized read-modify-write of a shared counter from every stress thread: a data race that
// ThreadSanitizer must report. The test asserts nothing about the count (updates may be lost).
#include <racegate/stress.hpp>

#include <gtest/gtest.h>

namespace {
long hits = 0;  // shared, unprotected
}

TEST(StressRacy, UnprotectedCounter) {
  racegate::stress({4, 50}, [](std::size_t, std::size_t) { hits = hits + 1; });
  EXPECT_GT(hits, 0);
}
