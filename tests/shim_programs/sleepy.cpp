// A main thread that sleeps with sleep() while another thread spins on an atomic: preempt's timer
// signal must not cut the sleep short. Prints what sleep returned and how long it took.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

int main(int argc, char **argv) {
    unsigned seconds = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 2;
    std::atomic<bool> done{false};
    std::atomic<unsigned long> spins{0};
    std::thread spinner([&] {
        while (!done.load()) spins.fetch_add(1);
    });
    auto start = std::chrono::steady_clock::now();
    unsigned left = sleep(seconds);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    done = true;
    spinner.join();
    std::printf("left=%u took=%.3f spins=%lu\n", left, took.count(), spins.load());
    return 0;
}
