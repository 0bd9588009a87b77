// A correct two-thread pool whose test assumes both workers took a task 2 ms after the tasks were queued: a
// worker that starts late (here: three processes in four, by their pid, as on a loaded CI machine) makes the check
// fail, on plain runs as on perturbed ones. Nothing in the check's words says time.
#include <unistd.h>

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

struct Pool {
  std::mutex mu;
  std::condition_variable cv;
  int queued = 0, started = 0;
  bool release = false;
  std::vector<std::thread> workers;

  explicit Pool(int n) {
    for (int i = 0; i < n; i++) workers.emplace_back([this, i] { work(i); });
  }
  void work(int index) {
    if (index == 1 && getpid() % 4 != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // late
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return queued > 0; });
    queued--;
    started++;
    cv.wait(lock, [this] { return release; });  // the task blocks on a flag
  }
  int seen() {
    std::lock_guard<std::mutex> lock(mu);
    return started;
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
    for (auto& w : workers) w.join();
  }
};

int main() {
  Pool pool(2);
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    pool.queued = 2;
  }
  pool.cv.notify_all();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  int seen = pool.seen();
  assert(seen == 2);
  return 0;
}
