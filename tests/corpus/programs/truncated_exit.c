// A process that ends while TSan is still writing a report: the worker's racy read has a deep stack, and main ends
// the process (exit_group, which nothing intercepts) as soon as the report's first bytes are in TSan's log file.
// gcc 12's runtime writes a report line by line, so its log ends mid-report; clang 14's writes it in one piece.
// truncated_full.c is the same source run to its end: the full report of the same race.
// corpus: source_name=truncated.c
#define CUT_SHORT 1
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

long g_total;
static int g_started;

__attribute__((noinline)) long sum_total(int depth) {
  if (depth == 0) return g_total;
  long total = sum_total(depth - 1);
  __asm__ volatile("" ::: "memory");  // no tail call: every level is a frame
  return total;
}

static void *worker(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&g_started, __ATOMIC_RELAXED)) {}
  return (void *)sum_total(100);
}

// The corpus runs with log_path=<dir>/tsan: TSan writes this process's reports to tsan.<pid>.
static void end_when_tsan_prints(void) {
  char path[64];
  snprintf(path, sizeof path, "tsan.%d", (int)getpid());
  struct stat st;
  while (stat(path, &st) != 0 || st.st_size == 0) {}
  syscall(SYS_exit_group, 0);
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  g_total = 1;
  __atomic_store_n(&g_started, 1, __ATOMIC_RELAXED);
  if (CUT_SHORT) end_when_tsan_prints();
  pthread_join(t, NULL);
  return 0;
}
