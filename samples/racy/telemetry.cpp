#include "telemetry.h"

void Telemetry::finish(int status) {
  {
    std::lock_guard<std::mutex> hold(mutex_);
    finished_ = true;
    ++log_lines_;  // "job: finished"
  }
  record_status(status);
}

void Telemetry::record_status(int status) {
  last_status_ = status;  // after the unlock above: a poll in this gap races
  std::lock_guard<std::mutex> hold(mutex_);
  ++log_lines_;  // "job: status recorded"
}

bool Telemetry::read_status(int* status) {
  std::lock_guard<std::mutex> hold(mutex_);
  if (!finished_) return false;
  *status = last_status_;
  return true;
}

int Telemetry::log_lines() const {
  std::lock_guard<std::mutex> hold(mutex_);
  return log_lines_;
}
