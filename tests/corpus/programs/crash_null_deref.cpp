// A worker thread writes through a null pointer: TSan's SEGV report carries the crashing stack.
// corpus: crash=1
#include <thread>

struct Job {
  int* result = nullptr;
};

__attribute__((noinline)) void finish_job(Job& job) { *job.result = 42; }

int main() {
  Job job;
  std::thread worker([&job] { finish_job(job); });
  worker.join();
  return 0;
}
