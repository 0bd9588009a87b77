/* A whole suite in one process, printing TAP: two tests race (each on its own global), a third fails its check on
   every run for a reason of its own. The failure must stay its own problem, not a symptom of either race. */
#include <pthread.h>
#include <stdio.h>

static int hits;
static long log_bytes;
static int left = 2;
static char why[200];

static void* count_hits(void* arg) {
  (void)arg;
  for (int i = 0; i < 1000; i++) hits++;
  return NULL;
}

static void* write_log(void* arg) {
  for (int i = 0; i < 1000; i++) log_bytes += (long)sizeof arg;
  return NULL;
}

static int run_pair(void* (*body)(void*)) {
  pthread_t a, b;
  pthread_create(&a, NULL, body, "a");
  pthread_create(&b, NULL, body, "b");
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  return 0;
}

static int counts(void) { return run_pair(count_hits); }
static int logs(void) { return run_pair(write_log); }
static int closes(void) {
  if (left != 0) {
    snprintf(why, sizeof why, "Assertion failed in %s on line %d: %s", __FILE__, __LINE__, "left == 0");
    return 1;
  }
  return 0;
}

int main(void) {
  struct { const char* name; int (*run)(void); } tests[] = {{"counts", counts}, {"logs", logs}, {"closes", closes}};
  int failed = 0;
  printf("1..3\n");
  for (int i = 0; i < 3; i++) {
    if (tests[i].run() == 0) {
      printf("ok %d - %s\n", i + 1, tests[i].name);
    } else {
      failed++;
      printf("not ok %d - %s\n# %s\n", i + 1, tests[i].name, why);
    }
  }
  return failed;
}
