/* One thread spins on an atomic (so preempt's timer keeps firing in this process) while the main thread
 * blocks, ROUNDS times each, in poll() on an empty pipe, select() on it, epoll_wait() on it and recv() on a
 * socket with SO_RCVTIMEO, each with a 200 ms timeout, and computes a little between the waits. None of
 * these calls is restarted after a signal handler, whatever SA_RESTART says: a timer signal that reaches
 * the thread while it waits makes the call return -1 with EINTR, which the program would take for its own.
 * Prints how many calls were interrupted and exits 1 when any was.
 *
 *     blocking_calls [ROUNDS]      (default 2) */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define WAIT_MS 200

static int stop;
static volatile unsigned long sink;

static void *spin(void *arg) {
    (void)arg;
    unsigned long n = 0;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) n++;
    sink = n;
    return NULL;
}

/* CPU work between waits: the waiting thread runs too, and preempt should reach it then. */
static void compute(void) {
    unsigned long x = 1;
    for (int i = 0; i < 2000000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    sink = x;
}

static int interrupted;

static void check(const char *call, long rc, long expected) {
    if (rc == -1 && errno == EINTR) {
        interrupted++;
        printf("%s interrupted: -1 EINTR\n", call);
    } else if (rc != expected) {
        printf("%s returned %ld (errno %d), expected %ld\n", call, rc, errno, expected);
        exit(2);
    }
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 2;
    int fds[2], sv[2];
    if (pipe(fds) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 2;
    struct timeval tv = {0, WAIT_MS * 1000};
    if (setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) return 2;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[0]};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev) != 0) return 2;

    pthread_t spinner;
    if (pthread_create(&spinner, NULL, spin, NULL) != 0) return 2;
    for (int r = 0; r < rounds; r++) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        compute();
        check("poll", poll(&pfd, 1, WAIT_MS), 0);
        compute();
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fds[0], &set);
        struct timeval stv = {0, WAIT_MS * 1000};
        check("select", select(fds[0] + 1, &set, NULL, NULL, &stv), 0);
        compute();
        struct epoll_event out;
        check("epoll_wait", epoll_wait(ep, &out, 1, WAIT_MS), 0);
        compute();
        char byte;
        long got = recv(sv[0], &byte, 1, 0);
        if (got == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) got = 0;  /* the timeout */
        check("recv", got, 0);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    pthread_join(spinner, NULL);
    printf("interrupted %d of %d calls\n", interrupted, rounds * 4);
    return interrupted ? 1 : 0;
}
