// Workloads for the scheduling shim's end-to-end tests: `shimprog MODE [N]`.
// Every mode must terminate under every schedule, including PCT's strict priorities on one CPU.
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace {

std::mutex mu;
std::condition_variable cv;

// One thread, a few lock operations: thread counting must say 1.
int single() {
    int total = 0;
    for (int i = 0; i < 10; ++i) {
        std::lock_guard<std::mutex> g(mu);
        total += i;
    }
    return total == 45 ? 0 : 1;
}

// N threads alive at once (each waits until all have started), each taking the mutex 100 times.
int threads(int n) {
    int started = 0;
    long sum = 0;
    std::vector<std::thread> ts;
    for (int t = 0; t < n; ++t) {
        ts.emplace_back([&] {
            std::unique_lock<std::mutex> lk(mu);
            ++started;
            cv.notify_all();
            cv.wait(lk, [&] { return started == n; });
            lk.unlock();
            for (int i = 0; i < 100; ++i) {
                std::lock_guard<std::mutex> g(mu);
                ++sum;
            }
        });
    }
    for (auto& t : ts) t.join();
    return sum == 100L * n ? 0 : 1;
}

// Each side busy-waits (no syscall at all) on a flag the other sets: needs the watchdog under PCT.
int spin() {
    std::atomic<int> turn{0};
    std::thread other([&] {
        for (int i = 0; i < 20; ++i) {
            while (turn.load() != 2 * i + 1) {
            }
            turn.store(2 * i + 2);
        }
    });
    for (int i = 0; i < 20; ++i) {
        turn.store(2 * i + 1);
        while (turn.load() != 2 * i + 2) {
        }
    }
    other.join();
    return 0;
}

// Waits by yielding / by sleeping for 0 and 1 microseconds.
int yield_or_sleep(bool sleep) {
    std::atomic<int> turn{0};
    auto wait_for = [&](int v) {
        while (turn.load() != v) {
            if (sleep) std::this_thread::sleep_for(std::chrono::microseconds(v % 2));
            else std::this_thread::yield();
        }
    };
    std::thread other([&] {
        for (int i = 0; i < 50; ++i) {
            wait_for(2 * i + 1);
            turn.store(2 * i + 2);
        }
    });
    for (int i = 0; i < 50; ++i) {
        turn.store(2 * i + 1);
        wait_for(2 * i + 2);
    }
    other.join();
    return 0;
}

// Ping-pong over a condition variable, alternating untimed and timed waits.
int condvar() {
    int turn = 0;
    auto wait_turn = [&](std::unique_lock<std::mutex>& lk, int v, bool timed) {
        if (timed) {
            while (!cv.wait_for(lk, std::chrono::milliseconds(50), [&] { return turn == v; })) {
            }
        } else {
            cv.wait(lk, [&] { return turn == v; });
        }
    };
    std::thread other([&] {
        for (int i = 0; i < 100; ++i) {
            std::unique_lock<std::mutex> lk(mu);
            wait_turn(lk, 2 * i + 1, i % 2);
            turn = 2 * i + 2;
            cv.notify_all();
        }
    });
    for (int i = 0; i < 100; ++i) {
        std::unique_lock<std::mutex> lk(mu);
        turn = 2 * i + 1;
        cv.notify_all();
        wait_turn(lk, 2 * i + 2, i % 2 == 0);
    }
    other.join();
    return 0;
}

// Polls a flag under the mutex: makes sync events while waiting, so progress looks real.
int lockpoll() {
    bool done = false;
    std::thread other([&] {
        std::lock_guard<std::mutex> g(mu);
        done = true;
    });
    for (;;) {
        std::lock_guard<std::mutex> g(mu);
        if (done) break;
    }
    other.join();
    return 0;
}

// errno across intercepted calls: the shim's own system calls (here a report file it cannot open, at
// each new maximum of live threads) must not change what the program sees.
int keeps_errno() {
    int bad = 0;
    for (int i = 0; i < 20; ++i) {
        errno = EDOM;
        pthread_t th;
        if (pthread_create(&th, nullptr, [](void*) -> void* { return nullptr; }, nullptr) != 0) return 3;
        bad += errno != EDOM;
        errno = ERANGE;
        pthread_join(th, nullptr);
        bad += errno != ERANGE;
        errno = EDOM;
        mu.lock();
        mu.unlock();
        bad += errno != EDOM;
    }
    std::printf("errno changed %d times\n", bad);
    return bad ? 1 : 0;
}

// The main thread's scheduling policy as the test body starts.
int policy() {
    std::printf("policy=%d\n", sched_getscheduler(0));
    return 0;
}

// N short-lived threads one after another, then a spin hand-off: under pct the last thread must still
// be managed by the watchdog, or the hand-off never finishes.
int many(int n) {
    for (int i = 0; i < n; ++i) std::thread([] {}).join();
    return spin();
}

// An unsynchronized counter: TSan reports it whatever the schedule.
int race() {
    int counter = 0;
    std::thread other([&] { ++counter; });
    ++counter;
    other.join();
    std::printf("%d\n", counter);
    return 0;
}

// Two threads that synchronize only through atomics (a check-then-act on one counter) for `n` rounds of
// 1000 operations: no call the shim wraps, so only a timer signal can perturb them. errno is set before
// the loop and checked after every operation: a signal handler that TSan runs at an atomic must keep it.
int atomics(int n) {
    std::atomic<long> left{0}, taken{0};
    std::atomic<int> errno_changed{0};
    auto work = [&](int err) {
        errno = err;
        for (long i = 0; i < 1000L * n; ++i) {
            if (left.load() <= 0) left.fetch_add(2);
            left.fetch_sub(1);
            taken.fetch_add(1, std::memory_order_relaxed);
            if (errno != err) {
                ++errno_changed;
                errno = err;
            }
        }
    };
    std::thread other(work, EDOM);
    work(ERANGE);
    other.join();
    std::printf("errno changed %d times\n", errno_changed.load());
    return errno_changed.load() ? 1 : 0;
}

// Two threads computing in registers (no atomic, no memory TSan checks, no call) for about as long as
// `atomics` runs, then one atomic operation each: TSan has no safe point to run a signal handler at
// until that operation.
int compute(int n) {
    std::atomic<unsigned long> sink{0};
    auto work = [&](unsigned long seed) {
        unsigned long x = seed;
        for (long i = 0; i < 20000L * n; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        sink.fetch_add(x);
    };
    std::thread other(work, 1);
    work(2);
    other.join();
    std::printf("%lu\n", sink.load() & 1);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "single";
    int n = argc > 2 ? std::atoi(argv[2]) : 4;
    if (!std::strcmp(mode, "single")) return single();
    if (!std::strcmp(mode, "threads")) return threads(n);
    if (!std::strcmp(mode, "spin")) return spin();
    if (!std::strcmp(mode, "yield")) return yield_or_sleep(false);
    if (!std::strcmp(mode, "sleep")) return yield_or_sleep(true);
    if (!std::strcmp(mode, "condvar")) return condvar();
    if (!std::strcmp(mode, "lockpoll")) return lockpoll();
    if (!std::strcmp(mode, "race")) return race();
    if (!std::strcmp(mode, "errno")) return keeps_errno();
    if (!std::strcmp(mode, "policy")) return policy();
    if (!std::strcmp(mode, "many")) return many(n);
    if (!std::strcmp(mode, "atomics")) return atomics(n);
    if (!std::strcmp(mode, "compute")) return compute(n);
    std::fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
