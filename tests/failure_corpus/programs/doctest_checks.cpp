// doctest: a case failing two checks in one run, and one REQUIRE with a message.
// corpus: variant=xml --reporters=xml
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <stdexcept>

TEST_CASE("ledger balances") {
  int credits = 3, debits = 5;
  CHECK(credits == debits);
  CHECK_MESSAGE(credits - debits >= 0, "balance went negative");
}

TEST_CASE("queue drains") {
  int left = 2;
  REQUIRE_MESSAGE(left == 0, "items left behind");
}

TEST_CASE("throws") { throw std::runtime_error("queue closed"); }
