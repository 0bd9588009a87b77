/* cmocka: a failing assert_int_equal and an assert_true. */
/* corpus: libs=-lcmocka */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

static void ledger_balances(void** state) {
  (void)state;
  int credits = 3, debits = 5;
  assert_int_equal(credits, debits);
}

static void queue_drains(void** state) {
  (void)state;
  int left = 2;
  assert_true(left == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(ledger_balances), cmocka_unit_test(queue_drains)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
