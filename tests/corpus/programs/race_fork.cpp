// Parent and child process each run the same racy pair of threads, so one log holds
// reports from two pids.
#include <sys/wait.h>
#include <unistd.h>
#include <thread>

long g_jobs = 0;

__attribute__((noinline)) void enqueue() {
  for (int i = 0; i < 1000; ++i) g_jobs = g_jobs + 1;
}

static void run_pair() {
  std::thread a(enqueue);
  std::thread b(enqueue);
  a.join();
  b.join();
}

int main() {
  pid_t child = fork();
  run_pair();
  if (child > 0) waitpid(child, nullptr, 0);
  return 0;
}
