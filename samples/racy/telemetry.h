// Telemetry: a job reports that it finished and what its exit status was; a
// monitor thread polls for that.
//
// What goes wrong: finish() marks the job finished under the mutex, releases
// it, stores the status (a plain int) and then takes the mutex again to count
// a log line. The monitor polls under the same mutex and reads the status once
// it sees "finished". The store is ordered before the monitor's read only if
// the job's second critical section comes before the monitor's poll, and it
// nearly always does: only one store separates the job's two critical
// sections, so a poll rarely lands between them. When one does, the store and
// the read are unordered and TSan reports a data race; plain runs almost
// never show it. A scheduler that delays a thread right after it unlocks
// (racegate's `noise`) or changes priorities at that sync point (`pct`)
// widens the gap and exposes the race on a large share of runs.
//
// TSan (only on unlucky schedules): "data race", a write in
// Telemetry::record_status against a read in Telemetry::read_status.
// Fix: store the status inside the first critical section (or make it
// std::atomic<int> and publish it before marking the job finished).
#pragma once

#include <mutex>

class Telemetry {
 public:
  // Job side: mark finished, then record the status.
  void finish(int status);
  // Monitor side: true once the job finished, with the status it recorded.
  bool read_status(int* status);
  int log_lines() const;

 private:
  void record_status(int status);

  mutable std::mutex mutex_;
  bool finished_ = false;
  int log_lines_ = 0;
  int last_status_ = 0;  // written outside the mutex: the bug
};
