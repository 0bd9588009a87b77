/* Check (libcheck): a failing ck_assert_int_eq and a ck_assert_msg, run without forking as under a debugger. */
/* corpus: env=CK_FORK=no */
/* corpus: libs=-lcheck -lsubunit -lm -lrt */
#include <check.h>
#include <stdlib.h>

START_TEST(ledger_balances) {
  int credits = 3, debits = 5;
  ck_assert_int_eq(credits, debits);
}
END_TEST

START_TEST(queue_drains) {
  int left = 2;
  ck_assert_msg(left == 0, "items left behind: %d", left);
}
END_TEST

int main(void) {
  Suite* s = suite_create("ledger");
  TCase* tc = tcase_create("core");
  tcase_add_test(tc, ledger_balances);
  tcase_add_test(tc, queue_drains);
  suite_add_tcase(s, tc);
  SRunner* sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
