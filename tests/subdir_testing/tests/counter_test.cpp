// Two threads count into one int without a lock: a data race on every run.
#include <thread>

static int hits;

static void count() {
    for (int i = 0; i < 1000; ++i) ++hits;
}

int main() {
    std::thread a(count), b(count);
    a.join();
    b.join();
    return hits > 0 ? 0 : 1;
}
