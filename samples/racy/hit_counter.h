// HitCounter: counts page hits from several request threads.
//
// What goes wrong: `record` does `hits_ += 1` on a plain long from every thread. Two threads read the same
// value, both add one, both write back: an update is lost, and the test's total comes out short on the
// runs where the threads really overlapped.
//
// TSan: "data race" on every run (nothing orders the threads), and on some runs the test's own check of the
// total fails too. The failure is a symptom of the race: racegate shows it under the race's bucket
// ("the total check failed in 3 of the 12 runs that had this data race"), not as a second problem.
// Fix: std::atomic<long> with fetch_add, or a mutex around the update (fixed/atomic_hit_counter.h).
#pragma once

class HitCounter {
 public:
  void record();
  long total() const { return hits_; }

 private:
  long hits_ = 0;
};
