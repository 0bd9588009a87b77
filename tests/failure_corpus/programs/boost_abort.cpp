// Boost.Test: a case that aborts without a message; Boost.Test's signal handler reports the signal, nothing more.
#define BOOST_TEST_MODULE aborts
#include <boost/test/included/unit_test.hpp>

#include <cstdlib>

BOOST_AUTO_TEST_CASE(aborts) { std::abort(); }
