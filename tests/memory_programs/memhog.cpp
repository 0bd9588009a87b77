// A test that needs a lot of memory under TSan: two threads each fill half of `argv[1]` MiB (TSan's shadow of
// what they touch multiplies it), hold it a moment, and check their sums. Race-free.
//
// MEMHOG_LOG=<file>: each run appends "<start ns> <end ns>" (CLOCK_MONOTONIC) so a test can tell whether two
// runs overlapped.
// MEMHOG_FAKE_OOM=<memory.events of a fake cgroup>: plays the kernel's OOM killer on the first run only: when the
// file's oom_kill count is 0, it counts a kill there and SIGKILLs itself, as the kernel counts and kills a victim
// (racegate's tests set RACEGATE_CGROUP_DIR to that fake cgroup: this machine has no cgroup v2 memory controller).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

static long long now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fake_oom_kill(const char* events) {
    std::ifstream in(events);
    std::string key;
    long kills = 0, value = 0;
    while (in >> key >> value)
        if (key == "oom_kill") kills = value;
    in.close();
    if (kills != 0) return;  // only the first run is killed
    std::ofstream(events) << "oom 1\noom_kill 1\n";
    std::raise(SIGKILL);
}

int main(int argc, char** argv) {
    const long long start = now_ns();
    const size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 64;
    const size_t half = mib * (1u << 20) / 2;
    std::vector<char> a(half), b(half);
    long sums[2] = {0, 0};
    auto fill = [](std::vector<char>& v, long& sum) {
        std::memset(v.data(), 1, v.size());  // through TSan's interceptor: its shadow of the whole range too
        for (size_t i = 0; i < v.size(); i += 4096) sum += v[i];
    };
    std::thread t1(fill, std::ref(a), std::ref(sums[0]));
    std::thread t2(fill, std::ref(b), std::ref(sums[1]));
    t1.join();
    t2.join();
    if (const char* events = std::getenv("MEMHOG_FAKE_OOM")) fake_oom_kill(events);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // hold the memory, as a long test would
    if (const char* log = std::getenv("MEMHOG_LOG")) std::ofstream(log, std::ios::app) << start << ' ' << now_ns() << '\n';
    std::printf("sums %ld %ld\n", sums[0], sums[1]);
    return sums[0] == sums[1] ? 0 : 1;
}
