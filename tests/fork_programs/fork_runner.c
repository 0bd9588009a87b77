/* A test runner in the style of acutest's default mode: each test case runs in a forked child, and the
 * parent, which never starts a thread, waits for it and prints the verdict. The `tally` case races, on
 * some schedules only: a reader that comes after the writer's publication reads a value written after it. The `exec_true` case forks a child that execs /bin/true, a
 * program not built with TSan, whose threads the shim cannot count, and `exec_static` one that execs a static
 * program, where the shim cannot load; `spawn_tally` starts this runner again
 * with posix_spawn to run `tally`. `every_run` races on every run (two threads count without the lock) and
 * `locked` is the same count under the lock, race-free (not CTest tests: run as `-- fork_runner CASE`).
 * Usage: fork_runner [CASE].
 * tests/e2e/test_forking_runner.py runs it under racegate. */
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int published;
static long tally;

/* The bug: the tally is marked published under the lock, but written after the lock is released. */
static void *publish(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    published = 1;
    pthread_mutex_unlock(&lock);
    tally = 42;
    return NULL;
}

/* Reads the tally only once it is published: the race shows only when this thread comes second. */
static void *read_published(void *arg) {
    long *seen = arg;
    pthread_mutex_lock(&lock);
    int ready = published;
    pthread_mutex_unlock(&lock);
    if (ready) *seen = tally;
    return NULL;
}

static int case_tally(void) {
    long seen = 0;
    pthread_t reader, writer;
    pthread_create(&reader, NULL, read_published, &seen);
    pthread_create(&writer, NULL, publish, NULL);
    pthread_join(reader, NULL);
    pthread_join(writer, NULL);
    return seen == 0 || seen == 42 ? 0 : 1;
}

static long count;

static void *count_unlocked(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) count++;
    return NULL;
}

static void *count_locked(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        count++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static int count_in_two_threads(void *(*counter)(void *)) {
    pthread_t a, b;
    pthread_create(&a, NULL, counter, NULL);
    pthread_create(&b, NULL, counter, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}

static int case_every_run(void) { return count_in_two_threads(count_unlocked); }

static int case_locked(void) { return count_in_two_threads(count_locked); }

static int case_arithmetic(void) { return 2 + 2 == 4 ? 0 : 1; }

static int case_exec_true(void) {
    execl("/bin/true", "true", (char *)NULL);
    return 1; /* exec failed */
}

static int case_exec_static(void) {
    execl(STATIC_HELPER, "static_helper", (char *)NULL);
    return 1; /* exec failed */
}

static char *self_path;

static int case_spawn_tally(void) {
    char *argv[] = {self_path, "tally", NULL};
    extern char **environ;
    pid_t pid;
    if (posix_spawn(&pid, self_path, NULL, NULL, argv, environ) != 0) return 1;
    int status = 0;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* named_only: run only when named, never by the runner without arguments (which forks the five others). */
struct test_case { const char *name; int (*fn)(void); int named_only; };
static const struct test_case cases[] = {
    {"tally", case_tally}, {"arithmetic", case_arithmetic}, {"exec_true", case_exec_true},
    {"exec_static", case_exec_static}, {"spawn_tally", case_spawn_tally},
    {"every_run", case_every_run, 1}, {"locked", case_locked, 1}, {NULL, NULL}};

/* Runs one case in a forked child, as acutest does by default. */
static int run_forked(const struct test_case *tc) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) exit(tc->fn());
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return 1;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    printf("Test %s... %s\n", tc->name, ok ? "[ OK ]" : "[ FAILED ]");
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    int failed = 0, ran = 0;
    self_path = argv[0];
    for (const struct test_case *tc = cases; tc->name; tc++) {
        if (argc > 1 ? strcmp(argv[1], tc->name) != 0 : tc->named_only) continue;
        failed += run_forked(tc);
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "no such test case\n");
        return 2;
    }
    return failed ? 1 : 0;
}
