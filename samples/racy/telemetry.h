// Telemetry: a job records its exit status, a monitor reads it. Both also
// write a line to a shared, mutex-protected log.
//
// What goes wrong: last_status_ is a plain int with no lock of its own. It
// only looks safe because of the log's mutex: record_status() writes the
// status and then logs (lock/unlock), read_status() logs (lock/unlock) and
// then reads the status. When the job's log call happens first, its unlock
// happens-before the monitor's lock, which orders the write before the read
// and TSan sees nothing. Only when the monitor gets the log mutex first is
// the write/read pair unordered. The monitor does some work first, so it is
// usually late: plain runs show the race rarely. A scheduler that delays or
// reorders lock acquisitions exposes it on a large share of runs.
//
// TSan (only on unlucky schedules): "data race", a write in
// Telemetry::record_status against a read in Telemetry::read_status.
// Fix: guard last_status_ with its own mutex, or make it std::atomic<int>.
#pragma once

#include <mutex>

class EventLog {
 public:
  void write(const char* line);
  int lines() const;

 private:
  mutable std::mutex mutex_;
  int lines_ = 0;
  unsigned checksum_ = 0;
};

class Telemetry {
 public:
  explicit Telemetry(EventLog& log) : log_(log) {}
  void record_status(int status);
  int read_status();

 private:
  EventLog& log_;
  int last_status_ = 0;  // not protected by anything
};
