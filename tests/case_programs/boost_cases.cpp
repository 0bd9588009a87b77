// A Boost.Test program whose cases racegate runs one per process: `slow/sleeps` takes longer than a short time
// budget, `shared/counter_race` races on every run, `shared/inner/adds` passes in a nested suite, and
// `shared/disabled_case` and the suite `off` are disabled (listed without `*`).
#define BOOST_TEST_MODULE racegate_cases
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

namespace {
int counter = 0;
void bump() {
    for (int i = 0; i < 1000; ++i) ++counter;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(slow)
BOOST_AUTO_TEST_CASE(sleeps) {
    std::this_thread::sleep_for(std::chrono::seconds(20));
    BOOST_TEST(true);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(shared)
BOOST_AUTO_TEST_CASE(counter_race) {
    std::thread a(bump), b(bump);
    a.join();
    b.join();
    BOOST_TEST(counter > 0);
}
BOOST_AUTO_TEST_CASE(disabled_case, *boost::unit_test::disabled()) {
    BOOST_TEST(false);
}
BOOST_AUTO_TEST_SUITE(inner)
BOOST_AUTO_TEST_CASE(adds) {
    BOOST_TEST(1 + 1 == 2);
}
BOOST_AUTO_TEST_SUITE_END()
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(off, *boost::unit_test::disabled())
BOOST_AUTO_TEST_CASE(never) {
    BOOST_TEST(false);
}
BOOST_AUTO_TEST_SUITE_END()
