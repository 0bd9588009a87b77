#include "telemetry.h"

void EventLog::write(const char* line) {
  std::lock_guard<std::mutex> hold(mutex_);
  for (const char* c = line; *c != '\0'; ++c) checksum_ = checksum_ * 31 + static_cast<unsigned char>(*c);
  ++lines_;
}

int EventLog::lines() const {
  std::lock_guard<std::mutex> hold(mutex_);
  return lines_;
}

void Telemetry::record_status(int status) {
  last_status_ = status;  // written before the log's lock...
  log_.write("job: status recorded");
}

int Telemetry::read_status() {
  log_.write("monitor: reading status");
  return last_status_;  // ...read after it: ordered only if the job logged first
}
