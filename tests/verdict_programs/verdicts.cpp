// One small TSan program, several behaviours chosen by argv[1], for racegate's verdict tests. Each one stands
// for a situation where the verdict must be the project's own:
//   hang             never returns (a test the time budget must cut)
//   slow-perturbed   fast plain, far slower under any perturbation strategy (racegate's own slowdown)
//   fail-perturbed   exits 3 under perturbation only (a failure only a perturbed schedule produces)
//   regex            two threads compile std::regex (libstdc++'s own ctype cache race, GCC bug 77704)
//   shared-vector    two threads append to one global std::vector (the project's race, inside library code)
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

bool perturbed() {
  const char* schedule = std::getenv("RACEGATE_SCHEDULE");
  return schedule != nullptr && std::strcmp(schedule, "none") != 0;
}

__attribute__((noinline)) bool matches_ticket(const std::string& text) {
  std::regex ticket("[a-z]+-[0-9]+");
  return std::regex_match(text, ticket);
}

std::vector<int> g_ids;

__attribute__((noinline)) void record_ids(int base) {
  for (int i = 0; i < 100; ++i) g_ids.push_back(base + i);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  // A second thread in every mode: racegate repeats only tests that ever ran more than one thread.
  if (mode == "hang") {
    std::thread([] { std::this_thread::sleep_for(std::chrono::hours(1)); }).join();
    return 0;
  } else if (mode == "slow-perturbed") {
    std::thread([] {
      std::this_thread::sleep_for(perturbed() ? std::chrono::seconds(120) : std::chrono::milliseconds(10));
    }).join();
    return 0;
  } else if (mode == "fail-perturbed") {
    bool fail = false;
    std::thread([&] { fail = perturbed(); }).join();
    return fail ? 3 : 0;
  } else if (mode == "regex") {
    bool a_ok = false, b_ok = false;
    std::thread a([&] { a_ok = matches_ticket("race-1"); });
    std::thread b([&] { b_ok = matches_ticket("gate-2"); });
    a.join();
    b.join();
    return a_ok && b_ok ? 0 : 1;
  } else if (mode == "shared-vector") {
    std::thread a(record_ids, 0);
    std::thread b(record_ids, 1000);
    a.join();
    b.join();
    return 0;
  }
  return 2;
}
