// Catch2 v2 (Debian's catch2 package is 2.13): a case failing two checks in one run, and a REQUIRE.
#define CATCH_CONFIG_MAIN
// corpus: variant=xml -r xml
#include <catch2/catch.hpp>

TEST_CASE("ledger balances") {
  int credits = 3, debits = 5;
  CHECK(credits == debits);
  INFO("balance went negative");
  CHECK(credits - debits >= 0);
}

TEST_CASE("queue drains") {
  int left = 2;
  REQUIRE(left == 0);
}
