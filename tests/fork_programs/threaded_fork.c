/* A parent that forks while another of its threads locks and unlocks a mutex and sleeps, as a test does that
 * forks beside a worker (a GoogleTest death test in a threaded fixture): the children (which start no thread)
 * must run and exit under every schedule, and count as single-threaded processes. Exits 0 when every child
 * exited with 3. tests/e2e/test_forking_runner.py runs it under the shim. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;
static int stop;

static void *worker(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        pthread_mutex_lock(&busy);
        pthread_mutex_unlock(&busy);
        usleep(100);
    }
    return NULL;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    int failed = 0;
    for (int i = 0; i < 5; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* Not `busy`: the worker may have held it at the fork, and no thread of the child will release it. */
            pthread_mutex_t own = PTHREAD_MUTEX_INITIALIZER;
            pthread_mutex_lock(&own);
            pthread_mutex_unlock(&own);
            usleep(1000);
            _exit(3);
        }
        int status = 0;
        failed += waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 3;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    printf("%d children failed\n", failed);
    return failed ? 1 : 0;
}
