/* A test runner of our own printing tinytest's shapes: `group/name: `, then `  FAIL file:line: assert(...): a vs b`
   and the verdict `[FAILED group/name (0 retries)]`; a forked test whose child reports success and then exits
   non-zero gets `[atexit failure!]`. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static long credits = 3, debits = 5;

static int balances(void) {
  if (credits != debits) {
    printf("\n  FAIL %s:%d: assert(credits == debits): %ld vs %ld", __FILE__, __LINE__, credits, debits);
    return 1;
  }
  return 0;
}

static int child_exits_late(void) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) _exit(3);  /* the test passed, then the child's exit failed */
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    printf("[atexit failure!]\n");
    return 1;
  }
  return 0;
}

int main(void) {
  struct { const char* name; int (*run)(void); } tests[] = {{"ledger/balances", balances},
                                                            {"ledger/child_exit", child_exits_late}};
  int failed = 0;
  for (int i = 0; i < 2; i++) {
    printf("%s: ", tests[i].name);
    if (tests[i].run() == 0) {
      puts("OK");
    } else {
      failed++;
      printf("\n  [FAILED %s (0 retries)]\n", tests[i].name);
    }
  }
  printf("%d/2 TESTS FAILED. (0 skipped)\n", failed);
  return failed ? 1 : 0;
}
