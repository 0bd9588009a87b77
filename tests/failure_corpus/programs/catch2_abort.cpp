// Catch2 v2: a case that aborts without a message; Catch2's signal handler reports the signal, nothing more.
// corpus: drop_tsan_reports=1
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstdlib>

TEST_CASE("aborts") { std::abort(); }
