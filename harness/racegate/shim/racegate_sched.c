/* racegate_sched: schedule perturbation for unmodified ThreadSanitizer test binaries.
 *
 * Loaded with LD_PRELOAD. It wraps thread creation, mutex and condition-variable operations, yields
 * and sleeps, counts them, and (depending on RACEGATE_SCHEDULE) perturbs the schedule around them.
 * preempt perturbs code that makes none of these calls (atomics only) through a per-thread timer
 * signal whose handler delays the thread; see "preempt" below for where TSan runs that handler.
 *
 * Where the shim sits:
 *  - clang: the TSan runtime is linked into the executable, whose interceptors bind first; TSan
 *    looks up its REAL() functions with dlsym(RTLD_NEXT), which finds this library. The shim runs
 *    below TSan, between TSan's bookkeeping and glibc.
 *  - gcc: libtsan.so.2 is a DT_NEEDED library, loaded after the preloaded shim, so the shim runs
 *    above TSan; our dlsym(RTLD_NEXT) finds libtsan's interceptors.
 * Either way every wrapper forwards to dlsym(RTLD_NEXT) and the schedule sees the same events.
 *
 * Every process of a test: a forked child of an instrumented process counts its own threads and is perturbed
 * like its parent, with its own seed derived from its parent's and the fork's order (see "fork" below); an
 * exec'd program loads the shim afresh (LD_PRELOAD is inherited). Each process image appends its own blocks,
 * and a program without TSan writes one block saying so: the runner (shim.py) tells from them whether it saw
 * the threads of every process.
 *
 * The shim itself is not instrumented and must stay invisible to TSan: it uses raw syscalls for
 * sleeping, yielding, scheduling and writing, atomics for its state, and glibc's own allocator
 * (__libc_malloc) for the one allocation that crosses threads.
 *
 * Environment:
 *   RACEGATE_SCHEDULE     none | pin | noise | pct | preempt | tsan-delay | repeat-in-process | probe
 *   RACEGATE_SEED         u64; every random choice derives from it and the thread creation order
 *   RACEGATE_NOISE_PROB   probability of a delay at each perturbation point (noise; default: each
 *                         thread draws its own from the seed)
 *   RACEGATE_NOISE_MAX_US longest injected sleep in microseconds (noise)
 *   RACEGATE_PREEMPT_US   mean interval between timer signals to a thread, microseconds (preempt)
 *   RACEGATE_PREEMPT_MAX_US longest sleep a timer signal injects, microseconds (preempt)
 *   RACEGATE_PREEMPT_SIGNAL the signal number the preempt timers send (default SIGRTMAX - 2)
 *   RACEGATE_PCT_DEPTH    PCT bug depth d: d-1 priority change points (pct)
 *   RACEGATE_PCT_STEPS    expected number of sync events, the range change points are drawn from
 *   RACEGATE_PCT_SLICE_MS watchdog period: priorities rotate when no sync event happened in it
 *   RACEGATE_PCT_SPIN_SLICES spinning slices after which pct gives up its priorities for the run
 *   RACEGATE_SHIM_REPORT  file the shim appends key=value blocks to (one per snapshot, per process image)
 */
/* The symbol versions below (GLIBC_2.2.5 for the glibc entry points, GLIBC_2.3.2 for the condition
 * variables clang's TSan looks up) are those of x86-64 glibc; other architectures have other base
 * versions, and a build with the wrong ones would load but miss calls. */
#if !defined(__x86_64__)
#error "racegate scheduling shim: unsupported architecture (only x86_64 is supported)"
#endif

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

#define TLS __thread __attribute__((tls_model("initial-exec")))
#define EXPORT __attribute__((visibility("default")))
#define MAX_SLOTS 256          /* threads alive at once whose PCT priority the watchdog manages */
#define MAX_PCT_DEPTH 16
#define FOREIGN_INDEX 0x100000 /* index base for threads not created through pthread_create */

enum mode { M_NONE, M_PIN, M_NOISE, M_PCT, M_PREEMPT };

/* ---- configuration, fixed at init ---- */
static int g_active;        /* 1 in a TSan process after init; the shim is inert elsewhere */
static int g_mode;
static int g_noise;         /* inject random delays */
static char g_schedule[64] = "none";
static char g_applied[64] = "none";
static char g_note[200];
static uint64_t g_seed;
static double g_noise_prob = 0.5;
static int g_noise_prob_fixed;  /* RACEGATE_NOISE_PROB given: every thread uses it */
static long g_noise_max_us = 1000;
static int g_pct_depth = 3;
static uint64_t g_pct_steps = 200;
static long g_slice_ms = 10;
static long g_spin_limit = 3;   /* spinning slices before pct gives up its priorities */
static long g_preempt_us = 50;
static long g_preempt_max_us = 100;
static int g_preempt_signo;     /* 0 until init: SIGRTMAX is a function call in glibc */
static char g_report_path[4096];
static int g_cpu = -1;
static cpu_set_t g_all_cpus;   /* the affinity before pinning, restored when pct gives up */
static int g_all_cpus_known;
static pid_t g_pid;
static pid_t g_parent;      /* the forking process for a forked child, else the parent when the image started */
static const char *g_origin = "exec";  /* "fork": a forked copy of an instrumented image; "exec": a new image */
static uint64_t g_image;    /* when this image started (ns): tells apart images of one pid (fork, then exec) */
static uint64_t g_proc_rng; /* process-level choices (CPU, PCT priorities) */
static int g_pct_pending;   /* a forked child under pct sets up its priorities when it creates its first thread */

/* PCT: initial priority of thread i is g_prio_perm[i % g_prio_count]; change point j (0-based) drops
 * the running thread to g_pct_depth - 1 - j, below every initial priority. */
static int g_prio_perm[100];
static int g_prio_count;
static int g_prio_max;      /* the watchdog's priority, above every test thread */
static uint64_t g_change_at[MAX_PCT_DEPTH];
static int g_changes;       /* number of change points (d - 1) */

/* ---- counters ---- */
static long g_live = 1, g_max_live = 1, g_created, g_locks, g_unlocks, g_cond_waits, g_yields,
            g_sleeps, g_joins, g_delays, g_change_hits, g_rotations, g_spin_slices;
static int g_pct_released;  /* pct gave up its priorities after g_spin_limit spinning slices */
static long g_timers, g_timer_failures, g_preempt_signals, g_preempt_delays, g_preempt_capped;
static int g_ncpu = 1;      /* CPUs the process may run on: bounds preempt's signal rate */
static uint64_t g_events;   /* sync events seen, drives PCT change points and watchdog progress */
static int g_next_index;    /* thread creation order */
static int g_next_foreign;
static long g_forks, g_spawns, g_execs;  /* forks (through fork()), posix_spawn calls, exec calls */
static TLS long t_fork_index;
static char g_exec_path[256];  /* the program of the last exec call, for the runner to name */  /* this thread's fork, numbered in the prepare handler, read in the child */

/* A thread claims a free slot when it starts and frees it when it ends, so any number of threads
 * over the run can be managed, MAX_SLOTS of them at once. */
struct slot { int tid; int prio; };  /* tid 0: free */
static struct slot g_slots[MAX_SLOTS];

/* timer: preempt's kernel timer id; timer_on: armed and ours to re-arm (cleared before deletion).
 * The handler draws from its own rng, so it never interleaves with a draw it interrupted. */
struct tstate { uint64_t rng; double noise_prob; int index; int tid; int slot; int inited;
                int timer, timer_made; volatile int timer_on; uint64_t timer_rng, armed_ns, delayed_ns; };
static TLS struct tstate t_self;

static pthread_key_t g_exit_key;
static void pct_setup_in_child(void);  /* with the fork handlers, below */

#define ADD(v, n) __atomic_add_fetch(&(v), (n), __ATOMIC_RELAXED)
#define LOAD(v) __atomic_load_n(&(v), __ATOMIC_RELAXED)
#define STORE(v, x) __atomic_store_n(&(v), (x), __ATOMIC_RELAXED)

/* ---- real functions ---- */
typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int (*mutex_fn)(pthread_mutex_t *);
typedef int (*cwait_fn)(pthread_cond_t *, pthread_mutex_t *);
typedef int (*ctimed_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
typedef int (*cclock_fn)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
typedef int (*join_fn)(pthread_t, void **);
typedef int (*yield_fn)(void);
typedef int (*nsleep_fn)(const struct timespec *, struct timespec *);
typedef int (*cnsleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);
typedef int (*usleep_fn)(useconds_t);
typedef unsigned (*sleep_fn)(unsigned);
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
/* the calls the kernel never restarts after a signal handler (see "preempt" below) */
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef int (*select_fn)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);
typedef int (*epoll_pwait_fn)(int, struct epoll_event *, int, int, const sigset_t *);
typedef int (*sigtimedwait_fn)(const sigset_t *, siginfo_t *, const struct timespec *);
typedef int (*sigwaitinfo_fn)(const sigset_t *, siginfo_t *);
typedef int (*sigsuspend_fn)(const sigset_t *);
typedef int (*pause_fn)(void);
typedef int (*accept_fn)(int, __SOCKADDR_ARG, socklen_t *);
typedef int (*accept4_fn)(int, __SOCKADDR_ARG, socklen_t *, int);
typedef int (*connect_fn)(int, __CONST_SOCKADDR_ARG, socklen_t);
typedef ssize_t (*recv_fn)(int, void *, size_t, int);
typedef ssize_t (*recvfrom_fn)(int, void *, size_t, int, __SOCKADDR_ARG, socklen_t *);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);
typedef int (*recvmmsg_fn)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, __CONST_SOCKADDR_ARG, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                        char *const[], char *const[]);

/* glibc's own entry points: the fallback while dlsym is not usable (re-entered during lookup). */
extern int __pthread_mutex_lock(pthread_mutex_t *);
extern int __pthread_mutex_unlock(pthread_mutex_t *);
__asm__(".symver __pthread_mutex_lock,__pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver __pthread_mutex_unlock,__pthread_mutex_unlock@GLIBC_2.2.5");
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

static TLS volatile int t_resolving;  /* volatile: the compiler must not drop the store around dlsym */

#define NEVER_RESTARTED(X)                                                             \
    X(poll_fn, poll) X(ppoll_fn, ppoll) X(select_fn, select) X(pselect_fn, pselect)     \
    X(epoll_wait_fn, epoll_wait) X(epoll_pwait_fn, epoll_pwait) X(sigtimedwait_fn, sigtimedwait) \
    X(sigwaitinfo_fn, sigwaitinfo) X(sigsuspend_fn, sigsuspend) X(pause_fn, pause)        \
    X(accept_fn, accept) X(accept4_fn, accept4) X(connect_fn, connect) X(recv_fn, recv)   \
    X(recvfrom_fn, recvfrom) X(recvmsg_fn, recvmsg) X(recvmmsg_fn, recvmmsg)              \
    X(send_fn, send) X(sendto_fn, sendto) X(sendmsg_fn, sendmsg)

#define REAL_FUNCTIONS(X)                                                             \
    NEVER_RESTARTED(X)                                                                \
    X(create_fn, pthread_create) X(mutex_fn, pthread_mutex_lock)                      \
    X(mutex_fn, pthread_mutex_unlock) X(cwait_fn, pthread_cond_wait)                  \
    X(ctimed_fn, pthread_cond_timedwait) X(cclock_fn, pthread_cond_clockwait)         \
    X(join_fn, pthread_join) X(yield_fn, sched_yield) X(nsleep_fn, nanosleep)         \
    X(cnsleep_fn, clock_nanosleep) X(usleep_fn, usleep) X(sleep_fn, sleep)               \
    X(execve_fn, execve)                                                              \
    X(execv_fn, execv) X(execv_fn, execvp) X(execve_fn, execvpe) X(fexecve_fn, fexecve)  \
    X(spawn_fn, posix_spawn) X(spawn_fn, posix_spawnp)

#define DECLARE_REAL(type, name) static type real_##name;
REAL_FUNCTIONS(DECLARE_REAL)

/* Looks up every wrapped function at once, with all signals blocked: a signal handler cannot
 * re-enter the shim while dlsym runs on this thread, so the only re-entry left is from inside the
 * dynamic linker itself (an IFUNC resolver, an allocator), which the wrappers below serve without
 * dlsym. Threads that arrive concurrently resolve for themselves; dlsym is thread-safe. */
static void resolve_all(void) {
    int saved_errno = errno;
    sigset_t all, old;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
    t_resolving = 1;
#define RESOLVE(type, name)                                                              \
    if (!__atomic_load_n(&real_##name, __ATOMIC_ACQUIRE))                                \
        __atomic_store_n(&real_##name, (type)dlsym(RTLD_NEXT, #name), __ATOMIC_RELEASE);
    REAL_FUNCTIONS(RESOLVE)
    t_resolving = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
    errno = saved_errno;
}

/* NULL only while this thread is inside resolve_all, or when the C library lacks the function. */
#define DEFINE_GET(type, name)                                              \
    static type get_##name(void) {                                          \
        type f = __atomic_load_n(&real_##name, __ATOMIC_ACQUIRE);           \
        if (!f && !t_resolving) {                                           \
            resolve_all();                                                  \
            f = __atomic_load_n(&real_##name, __ATOMIC_ACQUIRE);            \
        }                                                                   \
        return f;                                                           \
    }
REAL_FUNCTIONS(DEFINE_GET)

/* ---- helpers that TSan never sees ---- */

/* A system call that leaves errno as it was: the shim runs inside the program's calls, and the
 * program must see the errno its own calls set. Returns -errno on failure, like the kernel. */
static long raw(long nr, long a, long b, long c, long d) {
    int saved_errno = errno;
    long r = syscall(nr, a, b, c, d);
    if (r == -1) r = -errno;
    errno = saved_errno;
    return r;
}
#define RAW(nr, a, b, c, d) raw((nr), (long)(a), (long)(b), (long)(c), (long)(d))

static int raw_gettid(void) { return (int)RAW(SYS_gettid, 0, 0, 0, 0); }
static void raw_yield(void) { RAW(SYS_sched_yield, 0, 0, 0, 0); }
static void raw_sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (RAW(SYS_nanosleep, &ts, &ts, 0, 0) == -EINTR) {
    }
}
static int raw_set_fifo(int tid, int prio) {
    struct sched_param sp = {.sched_priority = prio};
    return (int)RAW(SYS_sched_setscheduler, tid, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp, 0);
}
static void raw_set_other(int tid) {
    struct sched_param sp = {.sched_priority = 0};
    RAW(SYS_sched_setscheduler, tid, SCHED_OTHER, &sp, 0);
}

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
/* splitmix64 step */
static uint64_t next_rand(uint64_t *state) {
    *state += 0x9e3779b97f4a7c15ULL;
    return mix64(*state);
}
static double unit_rand(uint64_t *state) { return (double)(next_rand(state) >> 11) * 0x1.0p-53; }

/* ---- per-thread state ---- */
static void thread_init(int index) {
    t_self.index = index;
    t_self.tid = raw_gettid();
    t_self.rng = mix64(g_seed ^ mix64((uint64_t)index + 1));
    /* Without a fixed RACEGATE_NOISE_PROB each thread draws its own: uneven delays reorder threads
     * more than the same delay everywhere, which mostly slows all of them alike. */
    t_self.noise_prob = g_noise_prob_fixed ? g_noise_prob : unit_rand(&t_self.rng);
    t_self.slot = -1;
    t_self.timer_rng = mix64(t_self.rng ^ 0x74696d6572ULL);
    t_self.inited = 1;
}
static struct tstate *self(void) {
    if (!t_self.inited) {
        int tid = raw_gettid();
        thread_init(tid == getpid() ? 0 : FOREIGN_INDEX + ADD(g_next_foreign, 1));
    }
    return &t_self;
}

/* ---- report ---- */
struct buf { char s[2048]; size_t n; };
static void put(struct buf *b, const char *s) {
    while (*s && b->n < sizeof b->s - 1) b->s[b->n++] = *s++;
}
static void put_u(struct buf *b, uint64_t v) {
    char tmp[24];
    int i = 0;
    do { tmp[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i && b->n < sizeof b->s - 1) b->s[b->n++] = tmp[--i];
}
static void kv_u(struct buf *b, const char *k, uint64_t v) { put(b, k); put(b, "="); put_u(b, v); put(b, "\n"); }
static void kv_s(struct buf *b, const char *k, const char *v) { put(b, k); put(b, "="); put(b, v); put(b, "\n"); }

static uint64_t mono_ns(void) {
    struct timespec ts;
    if (RAW(SYS_clock_gettime, CLOCK_MONOTONIC, &ts, 0, 0) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One block with a single write() in append mode, so the processes of a test writing at once do not mix. */
static void append_block(const struct buf *b) {
    if (!g_report_path[0]) return;
    int fd = (int)RAW(SYS_openat, AT_FDCWD, g_report_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    RAW(SYS_write, fd, b->s, b->n, 0);
    RAW(SYS_close, fd, 0, 0, 0);
}

/* Appends one snapshot of this process image. */
static void write_report(const char *phase) {
    if (!g_report_path[0]) return;
    struct buf b;
    b.n = 0;
    kv_u(&b, "pid", (uint64_t)g_pid);
    kv_u(&b, "image", g_image);
    kv_s(&b, "phase", phase);
    kv_u(&b, "tsan", 1);
    kv_u(&b, "ppid", (uint64_t)g_parent);
    kv_s(&b, "origin", g_origin);
    kv_s(&b, "schedule", g_schedule);
    kv_s(&b, "applied", g_applied);
    kv_u(&b, "seed", g_seed);
    if (g_note[0]) kv_s(&b, "note", g_note);
    if (g_exec_path[0]) kv_s(&b, "exec", g_exec_path);
    kv_u(&b, "max_threads", (uint64_t)LOAD(g_max_live));
    kv_u(&b, "threads_created", (uint64_t)LOAD(g_created));
    kv_u(&b, "mutex_locks", (uint64_t)LOAD(g_locks));
    kv_u(&b, "mutex_unlocks", (uint64_t)LOAD(g_unlocks));
    kv_u(&b, "cond_waits", (uint64_t)LOAD(g_cond_waits));
    kv_u(&b, "joins", (uint64_t)LOAD(g_joins));
    kv_u(&b, "yields", (uint64_t)LOAD(g_yields));
    kv_u(&b, "sleeps", (uint64_t)LOAD(g_sleeps));
    kv_u(&b, "delays", (uint64_t)LOAD(g_delays));
    kv_u(&b, "forks", (uint64_t)LOAD(g_forks));
    kv_u(&b, "spawns", (uint64_t)LOAD(g_spawns));
    if (g_mode == M_PREEMPT) {
        kv_u(&b, "preempt_timers", (uint64_t)LOAD(g_timers));
        kv_u(&b, "preempt_timer_failures", (uint64_t)LOAD(g_timer_failures));
        kv_u(&b, "preempt_signals", (uint64_t)LOAD(g_preempt_signals));
        kv_u(&b, "preempt_delays", (uint64_t)LOAD(g_preempt_delays));
        kv_u(&b, "preempt_capped", (uint64_t)LOAD(g_preempt_capped));
    }
    if (g_cpu >= 0) kv_u(&b, "cpu", (uint64_t)g_cpu);
    if (g_mode == M_PCT) {
        int n = LOAD(g_next_index) + 1;
        put(&b, "pct_priorities=");
        for (int i = 0; i < n && i < 32; i++) {
            if (i) put(&b, ",");
            put_u(&b, (uint64_t)g_prio_perm[i % g_prio_count]);
        }
        put(&b, "\npct_change_points=");
        for (int i = 0; i < g_changes; i++) {
            if (i) put(&b, ",");
            put_u(&b, g_change_at[i]);
        }
        put(&b, "\n");
        kv_u(&b, "pct_changes_hit", (uint64_t)LOAD(g_change_hits));
        kv_u(&b, "pct_rotations", (uint64_t)LOAD(g_rotations));
        kv_u(&b, "pct_spin_slices", (uint64_t)LOAD(g_spin_slices));
        kv_u(&b, "pct_released", (uint64_t)LOAD(g_pct_released));
    }
    put(&b, "end=1\n");
    append_block(&b);
}

/* The one block of a process without TSan: the shim does nothing else there, and the runner learns that a
 * process whose threads it cannot count ran. */
static void write_uninstrumented_block(void) {
    struct buf b;
    b.n = 0;
    char exe[512];
    long n = RAW(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1, 0);
    exe[n > 0 ? n : 0] = 0;
    const char *base = strrchr(exe, '/');
    kv_u(&b, "pid", (uint64_t)RAW(SYS_getpid, 0, 0, 0, 0));
    kv_u(&b, "image", mono_ns());
    kv_s(&b, "phase", "start");
    kv_u(&b, "tsan", 0);
    kv_u(&b, "ppid", (uint64_t)RAW(SYS_getppid, 0, 0, 0, 0));
    kv_s(&b, "origin", "exec");
    kv_s(&b, "exe", base ? base + 1 : exe);
    put(&b, "end=1\n");
    append_block(&b);
}

static void note_once(const char *msg) {
    size_t n = strlen(msg);
    if (n >= sizeof g_note) n = sizeof g_note - 1;
    memcpy(g_note, msg, n);
    g_note[n] = 0;
    RAW(SYS_write, 2, "racegate: ", 10, 0);
    RAW(SYS_write, 2, g_note, n, 0);
    RAW(SYS_write, 2, "\n", 1, 0);
}

/* ---- perturbation ---- */
static void noise_point(void) {
    /* Alone, a thread has nobody to be reordered against: a delay would only cost time. */
    if (LOAD(g_live) < 2) return;
    struct tstate *t = self();
    if (unit_rand(&t->rng) >= t->noise_prob) return;
    ADD(g_delays, 1);
    uint64_t r = next_rand(&t->rng);
    if (r & 1) raw_yield();
    else raw_sleep_us(1 + (long)((r >> 1) % (uint64_t)g_noise_max_us));
}

/* ---- preempt: a timer signal per test thread ----
 * Code that synchronizes only through atomics makes none of the calls the wrappers see, so noise and
 * pct never act inside it. Under preempt each test thread has a one-shot CLOCK_MONOTONIC timer that
 * signals that very thread (SIGEV_THREAD_ID) after a random interval; the handler delays the thread
 * (a yield or a sleep) and re-arms the timer.
 *
 * Where the delay lands: the handler is installed with sigaction(), which reaches TSan's interceptor
 * with both compilers (clang's interceptors are in the executable, gcc's libtsan.so.2 comes before
 * libc). TSan defers an asynchronous signal to its next safe point, and both runtimes (LLVM 14's and
 * gcc 12's) process pending signals in every __tsan_atomic* entry point: in atomics-only code the
 * delay happens at an atomic operation, for instance between a check (a load) and its act.
 *
 * Wall time, not the thread's CPU time: CPU-time timers only expire at the scheduler tick (4 ms on
 * this project's VMs), longer than the threads of most tests live (measured: on the samples, a
 * CLOCK_THREAD_CPUTIME_ID timer took preempt's detection from 0.15-0.55 a run to 0-0.05). A wall-time
 * signal also reaches a blocked thread: SA_RESTART restarts most interrupted system calls, and the
 * wrappers below disarm the timer around the blocking calls they see: condition waits, joins, sleeps,
 * and every call signal(7) says the kernel never restarts after a handler (poll, select, epoll_wait,
 * socket calls with timeouts, signal waits: NEVER_RESTARTED), which would fail with EINTR and the
 * program take the error for its own. The mean interval grows with the threads alive beyond the CPUs, so the process
 * takes about ncpu signals per interval however many threads there are.
 *
 * Cost: a thread spends at most PREEMPT_SHARE of the wall time since its timer was armed in preempt's
 * delays (a signal that finds the thread over its share re-arms without delaying), so a thread that
 * computes through atomics for long runs at most about 1 / (1 - PREEMPT_SHARE) times as long, while
 * a thread's first delays, the ones short-lived threads get, always happen. */
#define PREEMPT_SHARE 0.5
static void timer_set(struct tstate *t, long ns) {
    struct itimerspec it = {{0, 0}, {ns / 1000000000L, ns % 1000000000L}};
    RAW(SYS_timer_settime, t->timer, 0, &it, 0);
}
static long preempt_interval_ns(struct tstate *t) {
    long live = LOAD(g_live);
    long scale = live > g_ncpu ? (live + g_ncpu - 1) / g_ncpu : 1;
    uint64_t mean = (uint64_t)g_preempt_us * 1000ULL * (uint64_t)scale;
    return 1 + (long)(next_rand(&t->timer_rng) % (2 * mean));  /* uniform: random phase, mean `mean` */
}

static void preempt_handler(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    struct tstate *t = &t_self;
    /* timer_on is off while the thread draws from timer_rng itself (preempt_resume) */
    if (!t->timer_on || si->si_code != SI_TIMER || si->si_timerid != t->timer) return;
    int saved_errno = errno;
    ADD(g_preempt_signals, 1);
    uint64_t now = mono_ns();
    if (LOAD(g_live) < 2) {
        /* alone, a thread has nobody to be reordered against */
    } else if ((double)t->delayed_ns > PREEMPT_SHARE * (double)(now - t->armed_ns)) {
        ADD(g_preempt_capped, 1);
    } else {
        ADD(g_preempt_delays, 1);
        uint64_t r = next_rand(&t->timer_rng);
        if (r & 1) raw_yield();
        else raw_sleep_us(1 + (long)((r >> 1) % (uint64_t)g_preempt_max_us));
        t->delayed_ns += mono_ns() - now;
    }
    timer_set(t, preempt_interval_ns(t));
    errno = saved_errno;
}

static void preempt_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = preempt_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(g_preempt_signo, &sa, NULL) != 0) {
        note_once("preempt: cannot install the timer signal handler; running without perturbation");
        g_mode = M_NONE;
        strcpy(g_applied, "none");
    }
}

/* Gives the calling test thread its timer (once). */
static void preempt_arm_self(void) {
    struct tstate *t = self();
    if (g_mode != M_PREEMPT || t->timer_made) return;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = g_preempt_signo;
    ev._sigev_un._tid = t->tid;
    int id = 0;
    if (RAW(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id, 0) != 0) {  /* e.g. RLIMIT_SIGPENDING */
        ADD(g_timer_failures, 1);
        return;
    }
    t->timer = id;
    t->timer_made = 1;
    t->armed_ns = mono_ns();
    t->delayed_ns = 0;
    ADD(g_timers, 1);
    long ns = preempt_interval_ns(t);
    t->timer_on = 1;
    timer_set(t, ns);
}

/* Around a blocking call: no signal while the thread waits (it would only cut the wait short). */
static int preempt_pause(void) {
    struct tstate *t = &t_self;
    if (!t->timer_on) return 0;
    t->timer_on = 0;
    timer_set(t, 0);
    return 1;
}
static void preempt_resume(int paused) {
    if (!paused) return;
    struct tstate *t = &t_self;
    long ns = preempt_interval_ns(t);
    t->timer_on = 1;
    timer_set(t, ns);
}
static void preempt_drop_self(void) {
    if (!t_self.timer_made) return;
    t_self.timer_on = 0;
    t_self.timer_made = 0;
    RAW(SYS_timer_delete, t_self.timer, 0, 0, 0);
}

/* Returns this thread to how a plain run has it: SCHED_OTHER, every CPU the process started with. */
static void leave_pct_self(void) {
    raw_set_other(0);
    if (g_all_cpus_known) RAW(SYS_sched_setaffinity, 0, sizeof g_all_cpus, &g_all_cpus, 0);
}

static void set_own_prio(int prio) {
    struct tstate *t = self();
    if (t->slot >= 0) STORE(g_slots[t->slot].prio, prio);
    raw_set_fifo(0, prio);
    /* The watchdog may have released every slot between our check and the change above. */
    if (LOAD(g_pct_released)) leave_pct_self();
}

/* Under pct and not released: priorities still apply. */
static int pct_on(void) { return g_mode == M_PCT && !LOAD(g_pct_released); }

/* One sync event: counts toward PCT change points. */
static void sync_event(void) {
    uint64_t n = ADD(g_events, 1);
    if (!pct_on()) return;
    for (int i = 0; i < g_changes; i++) {
        if (g_change_at[i] == n) {
            ADD(g_change_hits, 1);
            set_own_prio(g_pct_depth - 1 - i);
        }
    }
}

/* Before an operation that orders this thread against others. */
static void before_sync(void) {
    if (!g_active) return;
    if (g_noise) noise_point();
    sync_event();
}
static void after_sync(void) {
    if (g_active && g_noise) noise_point();
}

/* A yield or sleep under PCT: drop to the lowest priority so a waiting lower-priority thread runs
 * (a yield under SCHED_FIFO only reaches threads of equal priority). */
static void pct_yield_point(void) {
    if (g_active && pct_on()) set_own_prio(1);
}

/* Watchdog: a spin loop on a high-priority thread would starve the thread it waits for. When a
 * slice passes without any sync event, or every 10 slices regardless (lock-polling loops do make
 * events), the managed threads are ranked by priority and rotated: the top one goes to the bottom,
 * every other moves up one, and all get distinct priorities (equal SCHED_FIFO priorities would not
 * preempt each other). Within n slices every thread has been on top once. */
static void rotate_priorities(void) {
    int idx[MAX_SLOTS], prio[MAX_SLOTS], n = 0;
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!LOAD(g_slots[i].tid)) continue;
        int p = LOAD(g_slots[i].prio), k = n++;
        for (; k > 0 && prio[k - 1] < p; k--) {  /* insertion sort, highest priority first */
            idx[k] = idx[k - 1];
            prio[k] = prio[k - 1];
        }
        idx[k] = i;
        prio[k] = p;
    }
    if (n < 2) return;
    for (int k = 0; k < n; k++) {
        int rank = (k + n - 1) % n;  /* new rank: the old top becomes last */
        int p = g_prio_max - 1 - rank;
        if (p < 1) p = 1;
        struct slot *sl = &g_slots[idx[k]];
        STORE(sl->prio, p);
        raw_set_fifo(LOAD(sl->tid), p);
    }
    ADD(g_rotations, 1);
}

/* Gives up pct for the rest of the run: every managed thread back to SCHED_OTHER on all CPUs. */
static void release_priorities(void) {
    STORE(g_pct_released, 1);
    for (int i = 0; i < MAX_SLOTS; i++) {
        int tid = LOAD(g_slots[i].tid);
        if (!tid) continue;
        raw_set_other(tid);
        if (g_all_cpus_known) RAW(SYS_sched_setaffinity, tid, sizeof g_all_cpus, &g_all_cpus, 0);
    }
}

static uint64_t process_cpu_ns(void) {
    struct timespec ts;
    if (RAW(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts, 0, 0) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sync events, yields and sleeps: a thread that makes any of them lets the schedule move on. */
static uint64_t progress_events(void) { return LOAD(g_events) + LOAD(g_yields) + LOAD(g_sleeps); }

/* Spinning: threads that wait by polling atomics make no event, so each hand-off between them waits
 * for a rotation, a whole slice. A slice is *spinning* when at least two test threads are alive, no
 * sync event, yield or sleep happened in it, and the process (all on one CPU) was on the CPU for at
 * least half of it. After g_spin_limit spinning slices in a run, pct gives up its priorities: the
 * run's extra cost is bounded by that many slices. */
static void *watchdog(void *arg) {
    (void)arg;
    uint64_t last = LOAD(g_events), last_progress = progress_events(), last_cpu = process_cpu_ns();
    int busy_slices = 0;
    for (;;) {
        raw_sleep_us(g_slice_ms * 1000);
        uint64_t now = LOAD(g_events), progress = progress_events(), cpu = process_cpu_ns();
        int spinning = progress == last_progress && LOAD(g_live) >= 2 &&
                       cpu - last_cpu >= (uint64_t)g_slice_ms * 500000ULL;
        last_progress = progress;
        last_cpu = cpu;
        if (spinning && ADD(g_spin_slices, 1) >= g_spin_limit) {
            release_priorities();
            return NULL;
        }
        if (now != last && ++busy_slices < 10) {
            last = now;
            continue;
        }
        last = now;
        busy_slices = 0;
        rotate_priorities();
    }
}

/* ---- thread lifecycle ---- */

/* Thread creation, joins and condition waits have no substitute the shim could call without its
 * lookup, and nothing reaches them while it runs (signals are blocked; the dynamic linker does not
 * create threads or wait). Should it happen anyway, stop loudly rather than hand the program an
 * error it would take for the real one. Mutexes, yields and sleeps have direct substitutes. */
static void unresolvable(const char *name) {
    RAW(SYS_write, 2, "racegate: the scheduling shim cannot find the real ", 51, 0);
    RAW(SYS_write, 2, name, strlen(name), 0);
    RAW(SYS_write, 2, "\n", 1, 0);
    abort();
}
struct start_rec { void *(*fn)(void *); void *arg; int index; int counted; };

/* A free slot for this thread, or -1 when MAX_SLOTS threads are managed already. */
static int claim_slot(int tid) {
    for (int i = 0; i < MAX_SLOTS; i++) {
        int free_tid = 0;
        if (LOAD(g_slots[i].tid) == 0 &&
            __atomic_compare_exchange_n(&g_slots[i].tid, &free_tid, tid, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return i;
    }
    return -1;
}

static void thread_exit_hook(void *v) {
    (void)v;
    ADD(g_live, -1);
    preempt_drop_self();
    if (t_self.slot >= 0) STORE(g_slots[t_self.slot].tid, 0);
    t_self.slot = -1;
}

static void *shim_start(void *p) {
    struct start_rec rec = *(struct start_rec *)p;
    __libc_free(p);
    thread_init(rec.index);
    if (rec.counted) {
        pthread_setspecific(g_exit_key, (void *)1);
        if (g_mode == M_PCT) {
            if (pct_on()) {
                t_self.slot = claim_slot(t_self.tid);
                set_own_prio(g_prio_perm[rec.index % g_prio_count]);
            } else {
                leave_pct_self();  /* created at a real-time priority just before pct gave up */
            }
        }
        preempt_arm_self();
        before_sync();
    }
    return rec.fn(rec.arg);
}

/* clang's TSan starts its background thread itself (attr NULL, every signal blocked); user threads
 * always reach us through TSan's interceptor with an attr, or directly (gcc) with their own. */
static int is_runtime_thread(const pthread_attr_t *attr) {
    if (attr) return 0;
    sigset_t cur;
    sigemptyset(&cur);
    if (RAW(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8) != 0) return 0;
    return sigismember(&cur, SIGSEGV) && sigismember(&cur, SIGINT) && sigismember(&cur, SIGUSR1);
}

static void note_new_thread(void) {
    long live = ADD(g_live, 1);
    long max = LOAD(g_max_live);
    while (live > max) {
        if (__atomic_compare_exchange_n(&g_max_live, &max, live, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            write_report("max");
            break;
        }
    }
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    create_fn real = get_pthread_create();
    if (!real) unresolvable("pthread_create");
    if (!g_active) return real(th, attr, fn, arg);
    if (LOAD(g_pct_pending) && !is_runtime_thread(attr)) pct_setup_in_child();
    struct start_rec *rec = __libc_malloc(sizeof *rec);
    if (!rec) return real(th, attr, fn, arg);
    rec->fn = fn;
    rec->arg = arg;
    rec->counted = !is_runtime_thread(attr);
    rec->index = rec->counted ? ADD(g_next_index, 1) : FOREIGN_INDEX + ADD(g_next_foreign, 1);
    if (rec->counted) {
        ADD(g_created, 1);
        note_new_thread();
        preempt_arm_self();  /* the creator (the main thread, first) runs alongside the new thread */
        before_sync();
    }
    int counted = rec->counted;
    int rc;
    if (counted && pct_on()) {
        /* The new thread starts at the top test priority, so it runs its start hook (registering
         * with the watchdog and taking its own priority) before anything else; threads would
         * otherwise start as SCHED_OTHER (SCHED_RESET_ON_FORK) and starve. gcc's TSan waits for the
         * child inside pthread_create, before we could adjust it afterwards. */
        pthread_attr_t local;
        if (attr) memcpy(&local, attr, sizeof local);  /* shallow: never destroyed */
        else pthread_attr_init(&local);
        struct sched_param sp = {.sched_priority = g_prio_max - 1};
        pthread_attr_setinheritsched(&local, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&local, SCHED_FIFO);
        pthread_attr_setschedparam(&local, &sp);
        rc = real(th, &local, shim_start, rec);
    } else {
        rc = real(th, attr, shim_start, rec);
    }
    if (rc != 0) {
        if (counted) ADD(g_live, -1);
        __libc_free(rec);
    }
    return rc;
}

EXPORT int pthread_join(pthread_t th, void **ret) {
    if (g_active) ADD(g_joins, 1);
    join_fn real = get_pthread_join();
    if (!real) unresolvable("pthread_join");
    int paused = preempt_pause();
    int rc = real(th, ret);
    preempt_resume(paused);
    return rc;
}

EXPORT int pthread_mutex_lock(pthread_mutex_t *m) {
    mutex_fn real = get_pthread_mutex_lock();
    if (!real) return __pthread_mutex_lock(m);
    if (g_active) {
        ADD(g_locks, 1);
        before_sync();
    }
    return real(m);
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m) {
    mutex_fn real = get_pthread_mutex_unlock();
    if (!real) return __pthread_mutex_unlock(m);
    int rc = real(m);
    if (g_active) {
        ADD(g_unlocks, 1);
        sync_event();
        after_sync();
    }
    return rc;
}

/* Condition waits: perturb before blocking and after waking (the mutex is held at both points). */
#define COND_WAIT(call)                    \
    if (g_active) {                        \
        ADD(g_cond_waits, 1);              \
        before_sync();                     \
    }                                      \
    int paused = preempt_pause();          \
    int rc = call;                         \
    preempt_resume(paused);                \
    after_sync();                          \
    return rc;

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
    cwait_fn real = get_pthread_cond_wait();
    if (!real) unresolvable("pthread_cond_wait");
    COND_WAIT(real(c, m))
}
EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts) {
    ctimed_fn real = get_pthread_cond_timedwait();
    if (!real) unresolvable("pthread_cond_timedwait");
    COND_WAIT(real(c, m, ts))
}
EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk, const struct timespec *ts) {
    cclock_fn real = get_pthread_cond_clockwait();
    if (!real) unresolvable("pthread_cond_clockwait");
    COND_WAIT(real(c, m, clk, ts))
}

/* The calls signal(7) lists as never restarted after a signal handler, whatever SA_RESTART says (file
 * descriptor multiplexing, waits for signals, sockets with SO_RCVTIMEO/SO_SNDTIMEO): preempt's timer pauses
 * for their length, as around the sleeps, so its signal never makes them fail with EINTR. A program's own
 * signals still interrupt them. Calls the C library makes internally (its resolver's poll) bypass these. */
#define UNINTERRUPTED(type, name, call)                         \
    type rc;                                                    \
    {                                                           \
        name##_fn real = get_##name();                          \
        if (!real) unresolvable(#name);                         \
        int paused = preempt_pause();                           \
        rc = call;                                              \
        preempt_resume(paused);                                 \
    }                                                           \
    return rc;

EXPORT int poll(struct pollfd *fds, nfds_t n, int ms) { UNINTERRUPTED(int, poll, real(fds, n, ms)) }
EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask) {
    UNINTERRUPTED(int, ppoll, real(fds, n, ts, mask))
}
EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
    UNINTERRUPTED(int, select, real(n, r, w, e, tv))
}
EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts, const sigset_t *mask) {
    UNINTERRUPTED(int, pselect, real(n, r, w, e, ts, mask))
}
EXPORT int epoll_wait(int ep, struct epoll_event *evs, int n, int ms) {
    UNINTERRUPTED(int, epoll_wait, real(ep, evs, n, ms))
}
EXPORT int epoll_pwait(int ep, struct epoll_event *evs, int n, int ms, const sigset_t *mask) {
    UNINTERRUPTED(int, epoll_pwait, real(ep, evs, n, ms, mask))
}
EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts) {
    UNINTERRUPTED(int, sigtimedwait, real(set, info, ts))
}
EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) { UNINTERRUPTED(int, sigwaitinfo, real(set, info)) }
EXPORT int sigsuspend(const sigset_t *mask) { UNINTERRUPTED(int, sigsuspend, real(mask)) }
EXPORT int pause(void) { UNINTERRUPTED(int, pause, real()) }
EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len) { UNINTERRUPTED(int, accept, real(fd, addr, len)) }
EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags) {
    UNINTERRUPTED(int, accept4, real(fd, addr, len, flags))
}
EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len) {
    UNINTERRUPTED(int, connect, real(fd, addr, len))
}
EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags) { UNINTERRUPTED(ssize_t, recv, real(fd, buf, n, flags)) }
EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, __SOCKADDR_ARG addr, socklen_t *len) {
    UNINTERRUPTED(ssize_t, recvfrom, real(fd, buf, n, flags, addr, len))
}
EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags) { UNINTERRUPTED(ssize_t, recvmsg, real(fd, msg, flags)) }
EXPORT int recvmmsg(int fd, struct mmsghdr *msgs, unsigned int n, int flags, struct timespec *ts) {
    UNINTERRUPTED(int, recvmmsg, real(fd, msgs, n, flags, ts))
}
EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags) {
    UNINTERRUPTED(ssize_t, send, real(fd, buf, n, flags))
}
EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG addr, socklen_t len) {
    UNINTERRUPTED(ssize_t, sendto, real(fd, buf, n, flags, addr, len))
}
EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    UNINTERRUPTED(ssize_t, sendmsg, real(fd, msg, flags))
}

EXPORT int sched_yield(void) {
    if (g_active) {
        ADD(g_yields, 1);
        pct_yield_point();
    }
    yield_fn real = get_sched_yield();
    if (real) return real();
    raw_yield();
    return 0;
}

#define SLEEP_POINT()          \
    if (g_active) {            \
        ADD(g_sleeps, 1);      \
        pct_yield_point();     \
    }

/* The kernel never restarts an interrupted sleep, so preempt's timer pauses for its length. */
EXPORT int nanosleep(const struct timespec *req, struct timespec *rem) {
    SLEEP_POINT()
    nsleep_fn real = get_nanosleep();
    int paused = preempt_pause();
    int rc = real ? real(req, rem) : (int)syscall(SYS_nanosleep, req, rem);
    preempt_resume(paused);
    return rc;
}
EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem) {
    SLEEP_POINT()
    cnsleep_fn real = get_clock_nanosleep();
    int paused = preempt_pause();
    int rc;
    if (real) {
        rc = real(clk, flags, req, rem);
    } else {
        long r = RAW(SYS_clock_nanosleep, clk, flags, req, rem);
        rc = r < 0 ? (int)-r : 0;  /* clock_nanosleep returns the error number, errno untouched */
    }
    preempt_resume(paused);
    return rc;
}
EXPORT int usleep(useconds_t us) {
    SLEEP_POINT()
    usleep_fn real = get_usleep();
    int paused = preempt_pause();
    int rc = 0;
    if (real) rc = real(us);
    else raw_sleep_us((long)us);
    preempt_resume(paused);
    return rc;
}
/* glibc's sleep() calls its internal clock_nanosleep, past the wrapper above: without this one,
 * preempt's first signal would end sleep(n) at once with the seconds left. */
EXPORT unsigned sleep(unsigned seconds) {
    SLEEP_POINT()
    sleep_fn real = get_sleep();
    int paused = preempt_pause();
    unsigned left = 0;
    if (real) left = real(seconds);
    else raw_sleep_us((long)seconds * 1000000L);
    preempt_resume(paused);
    return left;
}

/* ---- init ---- */
static const char *env(const char *name) { return getenv(name); }
static long env_long(const char *name, long dflt, long lo, long hi) {
    const char *s = env(name);
    if (!s || !*s) return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    return (*end || v < lo || v > hi) ? dflt : v;
}

/* Pins the process to one CPU drawn from those it could use before any pinning: a forked child of a pinned
 * parent draws among its parent's CPUs, not only the one its parent was pinned to. Raw system calls: a
 * forked child calls it from the fork handler, where TSan's interceptors must not run. */
static void choose_cpu(uint64_t *rng) {
    if (!g_all_cpus_known) {
        CPU_ZERO(&g_all_cpus);
        if (RAW(SYS_sched_getaffinity, 0, sizeof g_all_cpus, &g_all_cpus, 0) <= 0) return;
        g_all_cpus_known = 1;
    }
    cpu_set_t set = g_all_cpus;
    int n = CPU_COUNT(&set);
    if (n <= 0) return;
    int pick = (int)(next_rand(rng) % (uint64_t)n);
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set) && pick-- == 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            if (RAW(SYS_sched_setaffinity, 0, sizeof one, &one, 0) == 0) g_cpu = c;
            return;
        }
    }
}

/* Finds the highest SCHED_FIFO priority this process may use: 99 with CAP_SYS_NICE, else the
 * RLIMIT_RTPRIO soft limit. Returns 0 when real-time priorities are not allowed at all. */
static int usable_max_prio(void) {
    if (raw_set_fifo(0, 99) == 0) return 99;
    struct rlimit rl;
    if (getrlimit(RLIMIT_RTPRIO, &rl) == 0 && rl.rlim_cur > 0) {
        int p = rl.rlim_cur > 99 ? 99 : (int)rl.rlim_cur;
        if (raw_set_fifo(0, p) == 0) return p;
    }
    return 0;
}

/* The one way out of pct: noise on the pinned CPU, with the main thread back at SCHED_OTHER
 * (probing the usable priority may have left it real-time). */
static void pct_fall_back(const char *why) {
    note_once(why);
    g_mode = M_NOISE;
    g_noise = 1;
    strcpy(g_applied, "noise+pin");
    raw_set_other(0);
}

static void setup_pct(uint64_t *rng) {
    choose_cpu(rng);
    int maxp = usable_max_prio();
    /* need the change-point band, at least two initial priorities and the watchdog's */
    if (maxp < g_pct_depth + 2) {
        pct_fall_back("pct: cannot use SCHED_FIFO priorities (no CAP_SYS_NICE and RLIMIT_RTPRIO too low); "
                      "fell back to noise+pin");
        return;
    }
    g_prio_max = maxp;
    g_prio_count = maxp - g_pct_depth;
    for (int i = 0; i < g_prio_count; i++) g_prio_perm[i] = g_pct_depth + i;
    for (int i = g_prio_count - 1; i > 0; i--) {  /* Fisher-Yates */
        int j = (int)(next_rand(rng) % (uint64_t)(i + 1));
        int tmp = g_prio_perm[i];
        g_prio_perm[i] = g_prio_perm[j];
        g_prio_perm[j] = tmp;
    }
    g_changes = g_pct_depth - 1;
    for (int i = 0; i < g_changes; i++) {  /* distinct steps, as long as there are enough */
        int dup;
        do {
            g_change_at[i] = 1 + next_rand(rng) % g_pct_steps;
            dup = 0;
            for (int j = 0; j < i; j++) dup |= g_change_at[j] == g_change_at[i];
        } while (dup && g_pct_steps >= (uint64_t)g_changes);
    }

    /* the watchdog is created from glibc directly: TSan must not see it (gcc) and it is not a test thread */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    create_fn libc_create = libc ? (create_fn)dlsym(libc, "pthread_create") : NULL;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
    struct sched_param sp = {.sched_priority = maxp};
    pthread_attr_setschedparam(&attr, &sp);
    pthread_t wd;
    int started = libc_create && libc_create(&wd, &attr, watchdog, NULL) == 0;
    pthread_attr_destroy(&attr);
    if (!started) {
        pct_fall_back("pct: could not start the watchdog thread; fell back to noise+pin");
        return;
    }
    strcpy(g_applied, "pct");
    t_self.slot = claim_slot(raw_gettid());
    set_own_prio(g_prio_perm[0]);
}

static void at_exit_report(void) {
    preempt_drop_self();  /* no delays while the process exits */
    if (g_active && getpid() == g_pid) write_report("exit");
}

/* ---- fork ----
 * A test runner that runs each case in a forked child (acutest, Check, cmocka, death tests) has a
 * single-threaded parent: the threads that can race are the child's. The child of an instrumented process
 * therefore carries on as a process of its own: it counts its own threads from one, writes its own blocks
 * (a new image, origin=fork, ppid the forking process), and is perturbed like its parent under a seed of its
 * own, derived from its parent's and the number of the fork in its parent, so that a replay of the run (same
 * RACEGATE_SEED) gives every process of the tree the seed it had.
 *
 * The handlers run inside fork() with TSan's locks held (clang's interceptor calls the real fork between its
 * own before/after steps; gcc's libtsan is below us but the same holds there): they use atomics and raw
 * system calls only. What needs more (pct's watchdog thread, real-time priorities) waits for the child's
 * first thread (pthread_create below), the first point where a schedule can matter. After fork() only the
 * forking thread survives, and neither the watchdog nor any timer is inherited. */
#define FORK_SALT 0x666f726b00000000ULL
#define PROCESS_SALT 0x72616365676174ULL

static void before_fork(void) {
    if (g_active) t_fork_index = ADD(g_forks, 1);
}
static void in_forking_parent(void) {
    if (g_active) write_report("fork");  /* the fork count in the file, should the parent never exit */
}
static void reset_counters(void) {
    g_live = g_max_live = 1;
    g_created = g_locks = g_unlocks = g_cond_waits = g_yields = g_sleeps = g_joins = g_delays = 0;
    g_change_hits = g_rotations = g_spin_slices = 0;
    g_timers = g_timer_failures = g_preempt_signals = g_preempt_delays = g_preempt_capped = 0;
    g_forks = g_spawns = g_execs = 0;
    g_events = 0;
    g_next_index = g_next_foreign = 0;
    g_pct_released = 0;
    memset(g_slots, 0, sizeof g_slots);
    g_note[0] = 0;
    g_exec_path[0] = 0;
}
static void in_forked_child(void) {
    t_self.timer_on = 0;
    t_self.timer_made = 0;
    if (!g_active) return;
    g_parent = g_pid;
    g_pid = (pid_t)RAW(SYS_getpid, 0, 0, 0, 0);
    g_origin = "fork";
    g_image = mono_ns();
    g_seed = mix64(g_seed ^ mix64(FORK_SALT + (uint64_t)t_fork_index));
    reset_counters();
    thread_init(0);
    g_proc_rng = mix64(g_seed ^ PROCESS_SALT);
    if (g_mode == M_PCT) {
        g_cpu = -1;
        g_pct_pending = 1;  /* setup_pct picks the CPU too */
        strcpy(g_applied, "pct");
    } else if (g_cpu >= 0) {
        g_cpu = -1;  /* pin, or pct's noise+pin fallback */
        choose_cpu(&g_proc_rng);
    }
    write_report("start");
}

/* The first thread of a forked child under pct: the priorities the parent set up, drawn anew. */
static void pct_setup_in_child(void) {
    int pending = 1;
    if (__atomic_compare_exchange_n(&g_pct_pending, &pending, 0, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        setup_pct(&g_proc_rng);
}

/* ---- exec and spawn ----
 * An exec'd program loads the shim afresh and writes blocks of its own (the same pid, a new image); one the
 * shim cannot load in (a static program, an environment without LD_PRELOAD) writes none. So the image that
 * calls exec writes a last block saying so (phase=exec): when no image of that pid follows it, the runner
 * knows a process went unobserved. posix_spawn'ed programs are counted (spawns) for the same reason. */
static void before_exec(const char *what) {
    if (!g_active) return;
    ADD(g_execs, 1);
    size_t n = strlen(what);
    if (n >= sizeof g_exec_path) n = sizeof g_exec_path - 1;
    memcpy(g_exec_path, what, n);
    g_exec_path[n] = 0;
    write_report("exec");
}
static void exec_failed(void) {
    if (g_active) write_report("exec-failed");
}
#define EXEC_WRAPPER(what, call)                    \
    {                                               \
        before_exec(what);                          \
        int rc = call;                              \
        exec_failed();                              \
        return rc;                                  \
    }
static int no_exec(void) {
    errno = ENOSYS;
    return -1;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
    execve_fn real = get_execve();
    EXEC_WRAPPER(path, real ? real(path, argv, envp) : no_exec())
}
EXPORT int execv(const char *path, char *const argv[]) {
    execv_fn real = get_execv();
    EXEC_WRAPPER(path, real ? real(path, argv) : no_exec())
}
EXPORT int execvp(const char *file, char *const argv[]) {
    execv_fn real = get_execvp();
    EXEC_WRAPPER(file, real ? real(file, argv) : no_exec())
}
EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
    execve_fn real = get_execvpe();
    EXEC_WRAPPER(file, real ? real(file, argv, envp) : no_exec())
}
EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
    fexecve_fn real = get_fexecve();
    EXEC_WRAPPER("(a file descriptor)", real ? real(fd, argv, envp) : no_exec())
}

/* execl, execlp and execle: their arguments as an argv (glibc's own call execve internally, past us). */
#define COLLECT_ARGV(argv, arg, ap)                                  \
    size_t argc_ = 1;                                                \
    va_start(ap, arg);                                               \
    while (va_arg(ap, char *)) argc_++;                              \
    va_end(ap);                                                      \
    char **argv = __builtin_alloca((argc_ + 1) * sizeof(char *));    \
    va_start(ap, arg);                                               \
    argv[0] = (char *)arg;                                           \
    for (size_t i_ = 1; i_ <= argc_; i_++) argv[i_] = va_arg(ap, char *);

EXPORT int execl(const char *path, const char *arg, ...) {
    va_list ap;
    COLLECT_ARGV(argv, arg, ap)
    va_end(ap);
    return execv(path, argv);
}
EXPORT int execlp(const char *file, const char *arg, ...) {
    va_list ap;
    COLLECT_ARGV(argv, arg, ap)
    va_end(ap);
    return execvp(file, argv);
}
EXPORT int execle(const char *path, const char *arg, ...) {
    va_list ap;
    COLLECT_ARGV(argv, arg, ap)
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

static int spawned(int rc) {
    if (g_active && rc == 0) {
        ADD(g_spawns, 1);
        write_report("spawn");
    }
    return rc;
}
EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    spawn_fn real = get_posix_spawn();
    return real ? spawned(real(pid, path, fa, attr, argv, envp)) : ENOSYS;
}
EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    spawn_fn real = get_posix_spawnp();
    return real ? spawned(real(pid, file, fa, attr, argv, envp)) : ENOSYS;
}

__attribute__((constructor)) static void shim_init(void) {
    const char *rp = env("RACEGATE_SHIM_REPORT");
    if (rp) strncpy(g_report_path, rp, sizeof g_report_path - 1);
    /* Only perturb TSan-instrumented processes: not shells, ctest wrappers or llvm-symbolizer. */
    if (!dlsym(RTLD_DEFAULT, "__tsan_init")) {
        write_uninstrumented_block();
        return;
    }
    g_pid = getpid();
    g_parent = getppid();
    g_image = mono_ns();
    const char *s = env("RACEGATE_SCHEDULE");
    if (s && *s) {
        strncpy(g_schedule, s, sizeof g_schedule - 1);
    }
    const char *seed = env("RACEGATE_SEED");
    g_seed = seed ? strtoull(seed, NULL, 10) : 0;
    const char *prob = env("RACEGATE_NOISE_PROB");
    if (prob && *prob) {
        double p = strtod(prob, NULL);
        if (p >= 0 && p <= 1) {
            g_noise_prob = p;
            g_noise_prob_fixed = 1;
        }
    }
    g_noise_max_us = env_long("RACEGATE_NOISE_MAX_US", g_noise_max_us, 1, 1000000);
    g_pct_depth = (int)env_long("RACEGATE_PCT_DEPTH", g_pct_depth, 1, MAX_PCT_DEPTH);
    g_pct_steps = (uint64_t)env_long("RACEGATE_PCT_STEPS", (long)g_pct_steps, 1, 1L << 40);
    g_slice_ms = env_long("RACEGATE_PCT_SLICE_MS", g_slice_ms, 1, 10000);
    g_spin_limit = env_long("RACEGATE_PCT_SPIN_SLICES", g_spin_limit, 1, 1000000);
    g_preempt_us = env_long("RACEGATE_PREEMPT_US", g_preempt_us, 1, 10000000);
    g_preempt_max_us = env_long("RACEGATE_PREEMPT_MAX_US", g_preempt_max_us, 1, 1000000);
    g_preempt_signo = (int)env_long("RACEGATE_PREEMPT_SIGNAL", SIGRTMAX - 2, 1, SIGRTMAX);
    if (g_preempt_signo == SIGKILL || g_preempt_signo == SIGSTOP) g_preempt_signo = SIGRTMAX - 2;
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0) g_ncpu = CPU_COUNT(&cpus);

    uint64_t *rng = &g_proc_rng;
    *rng = mix64(g_seed ^ PROCESS_SALT);
    thread_init(0);
    strcpy(g_applied, g_schedule);
    if (!strcmp(g_schedule, "probe")) {
        _exit(0);  /* TSan already printed what the probe asked for (e.g. help=1) */
    } else if (!strcmp(g_schedule, "pin")) {
        g_mode = M_PIN;
        choose_cpu(rng);
    } else if (!strcmp(g_schedule, "noise")) {
        g_mode = M_NOISE;
        g_noise = 1;
    } else if (!strcmp(g_schedule, "pct")) {
        g_mode = M_PCT;
        setup_pct(rng);
    } else if (!strcmp(g_schedule, "preempt")) {
        g_mode = M_PREEMPT;
        preempt_install();  /* TSan is initialized by now: both runtimes start from .preinit_array */
    } else if (strcmp(g_schedule, "none") && strcmp(g_schedule, "tsan-delay") &&
               strcmp(g_schedule, "repeat-in-process")) {
        note_once("unknown RACEGATE_SCHEDULE; running without perturbation");
        strcpy(g_applied, "none");
    }
    pthread_key_create(&g_exit_key, thread_exit_hook);
    pthread_atfork(before_fork, in_forking_parent, in_forked_child);
    atexit(at_exit_report);
    g_active = 1;
    write_report("start");
}
