// GoogleTest cases that crash on every run without any TSan report (steady_crash.h), beside one that passes:
// the shape of the cpp-httplib field test, where every ServerTest case resolved a name.
#include <gtest/gtest.h>

#include <thread>

#include "steady_crash.h"

TEST(Resolve, First) { EXPECT_EQ(resolve_localhost(), 0); }
TEST(Resolve, Second) { EXPECT_EQ(resolve_localhost(), 0); }
TEST(Kill, First) { kill_with_segv(); }
TEST(Kill, Second) { kill_with_segv(); }
TEST(Quiet, Passes) { std::thread([] {}).join(); }
