/* The same race under the Check framework in its default fork mode (CK_FORK): Check runs each test in a
 * forked child of a single-threaded parent. tests/e2e/test_forking_runner.py runs it under racegate. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int opened;
static long visits;

/* The bug: the door is marked open under the lock, but the visit count is set after it is released. */
static void *open_door(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    opened = 1;
    pthread_mutex_unlock(&lock);
    visits = 7;
    return NULL;
}

/* Counts a visit only once the door is open: the race shows only when this thread comes second. */
static void *visit(void *arg) {
    long *seen = arg;
    pthread_mutex_lock(&lock);
    int open = opened;
    pthread_mutex_unlock(&lock);
    if (open) *seen = visits;
    return NULL;
}

START_TEST(visitor_after_opening) {
    long seen = 0;
    pthread_t visitor, doorman;
    pthread_create(&visitor, NULL, visit, &seen);
    pthread_create(&doorman, NULL, open_door, NULL);
    pthread_join(visitor, NULL);
    pthread_join(doorman, NULL);
    ck_assert(seen == 0 || seen == 7);
}
END_TEST

int main(void) {
    Suite *suite = suite_create("visits");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, visitor_after_opening);
    suite_add_tcase(suite, tc);
    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_FORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
