// Boost.Test (header-only variant): a case failing two checks in one run, and a BOOST_REQUIRE_MESSAGE.
#define BOOST_TEST_MODULE ledger
#include <boost/test/included/unit_test.hpp>

BOOST_AUTO_TEST_CASE(ledger_balances) {
  int credits = 3, debits = 5;
  BOOST_CHECK_EQUAL(credits, debits);
  BOOST_TEST(credits - debits >= 0);
}

BOOST_AUTO_TEST_CASE(queue_drains) {
  int left = 2;
  BOOST_REQUIRE_MESSAGE(left == 0, "items left behind");
}

BOOST_AUTO_TEST_CASE(throws) { throw std::runtime_error("queue closed"); }
