// A race ThreadSanitizer can see only while both threads really run at the same time.
//
// Two workers meet at a start line, take a mutex once (incidental synchronization: a shared tally), write
// `last_writer` without the lock, and go on taking the mutex. TSan orders the two writes when one worker's
// release after its write reached the other before that one's write: so they are reported only when the
// second worker takes its first lock before the first one, past its write and a short stretch of work,
// takes its next. That needs both workers on a CPU at once. When they share one CPU (or one of them is
// preempted at the start line) the kernel's time slices (milliseconds) run one worker past its next lock
// before the other gets there, and the writes come out ordered: no report. The fixed test writes under the
// lock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace {

constexpr int kSteps = 1000;  // locked steps per worker after the write
// Unsynchronized work between the write and the next lock: the window the other worker's first lock must fall in.
constexpr std::chrono::microseconds kWindow{2000};

struct Tally {
  std::mutex mutex;
  long steps = 0;
  int last_writer = 0;
};

void LockedStep(Tally& tally) {
  std::lock_guard<std::mutex> lock(tally.mutex);
  ++tally.steps;
}

// The start line is relaxed atomics: it must not order the writes for TSan.
void Worker(Tally& tally, std::atomic<int>& ready, int id, bool write_under_lock, unsigned& work_done) {
  ready.fetch_add(1, std::memory_order_relaxed);
  while (ready.load(std::memory_order_relaxed) < 2) {
  }
  LockedStep(tally);
  if (write_under_lock) {
    std::lock_guard<std::mutex> lock(tally.mutex);
    tally.last_writer = id;
  } else {
    tally.last_writer = id;  // the race: no lock
  }
  unsigned work = id;
  const auto window_end = std::chrono::steady_clock::now() + kWindow;
  while (std::chrono::steady_clock::now() < window_end) {
    work = work * 1103515245u + 12345u;
  }
  for (int step = 1; step < kSteps; ++step) {
    LockedStep(tally);
  }
  work_done = work;  // each worker its own: so the work is not optimized away
}

long RunWorkers(bool write_under_lock) {
  Tally tally;
  std::atomic<int> ready{0};
  unsigned work_a = 0, work_b = 0;
  std::thread a(Worker, std::ref(tally), std::ref(ready), 1, write_under_lock, std::ref(work_a));
  std::thread b(Worker, std::ref(tally), std::ref(ready), 2, write_under_lock, std::ref(work_b));
  a.join();
  b.join();
  return tally.steps;
}

}  // namespace

TEST(OverlapRace, UnlockedWrite) { EXPECT_EQ(RunWorkers(false), 2L * kSteps); }

TEST(OverlapRace, LockedWrite) { EXPECT_EQ(RunWorkers(true), 2L * kSteps); }
