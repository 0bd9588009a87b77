/* Preloaded right after the shim: defines sched_yield as an IFUNC whose resolver itself yields and
 * sleeps. The shim looks up its real functions with dlsym, which runs this resolver on the shim's
 * own thread in the middle of the lookup: the resolver's sched_yield and clock_nanosleep re-enter
 * the shim before it knows the real ones, and must still work, without a lookup of their own (which
 * would run this resolver again, without end). */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int yield_directly(void) { return (int)syscall(SYS_sched_yield); }

static void *pick_sched_yield(void) {
    struct timespec ts = {0, 1000};
    int yielded = sched_yield();
    int slept = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    char line[80];
    int n = snprintf(line, sizeof line, "resolver: sched_yield returned %d, clock_nanosleep returned %d\n",
                     yielded, slept);
    if (write(2, line, (size_t)n) != n) return (void *)yield_directly;
    return (void *)yield_directly;
}

int sched_yield(void) __attribute__((ifunc("pick_sched_yield")));
