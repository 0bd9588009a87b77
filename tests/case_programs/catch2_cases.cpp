// A Catch2 v2 program whose cases racegate runs one per process: "slow, sleeping [long]" takes longer than a
// short time budget (its name holds a comma and its tag a bracket, which a test spec must escape), "counter
// race" races on every run, and a hidden case ([.]) is not listed.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

namespace {
int counter = 0;
void bump() {
    for (int i = 0; i < 1000; ++i) ++counter;
}
}  // namespace

TEST_CASE("slow, sleeping [20 s]", "[long]") {
    std::this_thread::sleep_for(std::chrono::seconds(20));
    CHECK(true);
}

TEST_CASE("counter race", "[race]") {
    std::thread a(bump), b(bump);
    a.join();
    b.join();
    CHECK(counter > 0);
}

TEST_CASE("hidden case", "[.]") {
    CHECK(false);
}
