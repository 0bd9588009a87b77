/* A test runner of our own that prints TAP as libuv's does: `not ok N - name`, then the test's output as `#`
   diagnostics, among them libuv's assertion line; a skipped test and a TODO are no failures. Exit status: how
   many tests failed. */
#include <stdio.h>

static int ledger_left = 2;

#define CHECK(expr)                                                                              \
  do {                                                                                           \
    if (!(expr)) {                                                                               \
      snprintf(why, sizeof why, "Assertion failed in %s on line %d: %s", __FILE__, __LINE__, #expr); \
      return 1;                                                                                  \
    }                                                                                            \
  } while (0)

static char why[256];

static int balances(void) { return 0; }
static int drains(void) {
  CHECK(ledger_left == 0);
  return 0;
}
static int closes(void) {
  snprintf(why, sizeof why, "exit code 3");
  return 1;
}

int main(void) {
  struct { const char* name; int (*run)(void); } tests[] = {{"balances", balances}, {"drains", drains},
                                                            {"closes", closes}};
  int failed = 0;
  printf("1..5\n");
  for (int i = 0; i < 3; i++) {
    why[0] = '\0';
    if (tests[i].run() == 0) {
      printf("ok %d - %s\n", i + 1, tests[i].name);
    } else {
      failed++;
      printf("not ok %d - %s\n# %s\n", i + 1, tests[i].name, why);
    }
  }
  printf("ok 4 - rounds # SKIP no network\n");
  printf("not ok 5 - settles # TODO not written yet\n");
  return failed;
}
