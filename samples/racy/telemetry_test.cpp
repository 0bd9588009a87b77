#include "telemetry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

// The monitor's preparation before it looks at the job: summing a report
// buffer. Its length decides how often the monitor beats the job to the log
// mutex; tuned so that plain runs rarely do (measured in samples/README.md).
constexpr int kReportItems = 3000;

long prepare_report(const std::vector<int>& items) {
  long sum = 0;
  for (int v : items) sum += v;
  return sum;
}

}  // namespace

TEST(TelemetryHiddenRace, MonitorReadsStatusAfterJobLogs) {
  EventLog log;
  Telemetry telemetry(log);
  const std::vector<int> report_items(kReportItems, 1);
  long prepared = 0;
  int seen = -1;
  // Both threads wait for one start signal. It is an atomic, so it orders
  // each thread after main but not the two threads with each other.
  std::atomic<bool> start{false};
  std::thread job([&] {
    while (!start.load()) std::this_thread::yield();
    telemetry.record_status(42);
  });
  std::thread monitor([&] {
    while (!start.load()) std::this_thread::yield();
    prepared = prepare_report(report_items);
    seen = telemetry.read_status();
  });
  start.store(true);
  job.join();
  monitor.join();
  EXPECT_EQ(prepared, kReportItems);
  EXPECT_TRUE(seen == 0 || seen == 42) << seen;
  EXPECT_EQ(log.lines(), 2);
}
