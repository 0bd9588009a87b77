// doctest: a case that aborts without a message; doctest's signal handler reports the signal, nothing more.
// corpus: drop_tsan_reports=1
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdlib>

TEST_CASE("aborts") { std::abort(); }
