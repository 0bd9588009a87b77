// A race through a static comparator called by a static search helper (field test #25, libuv's signal tree:
// uv__signal_compare, called from RB_NFIND through uv__signal_first_handle, from uv__signal_start). Both
// helpers have two callers, as libuv's have; at -O1 gcc keeps them out of line and clang inlines them into
// their callers, so the read side's top frame is the comparator under gcc and the caller under clang.
#include <pthread.h>

struct handle {
  int signum;
  int flags;
};

static struct handle g_handles[8];

static int handle_compare(const struct handle *a, const struct handle *b) {
  if (a->signum != b->signum) return a->signum < b->signum ? -1 : 1;
  return a->flags - b->flags;
}

static struct handle *first_handle(int signum) {
  struct handle lookup = {signum, 0};
  for (int i = 0; i < 8; i++)
    if (handle_compare(&g_handles[i], &lookup) >= 0) return &g_handles[i];
  return 0;
}

static int count_handles(int signum) {
  struct handle lookup = {signum, 1};
  int n = 0;
  for (int i = 0; i < 8; i++) n += handle_compare(&g_handles[i], &lookup) == 0;
  return n;
}

__attribute__((noinline)) int signal_start(int signum) {
  struct handle *h = first_handle(signum);
  if (h) h->signum = signum + 1;  // the write, outside any lock
  return h != 0;
}

__attribute__((noinline)) int signal_stop(int signum) { return count_handles(signum) + (first_handle(signum) != 0); }

static void *loop(void *arg) {
  long n = (long)arg;
  for (int i = 0; i < 100; i++) signal_start((int)(n + i) % 4);
  return 0;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, 0, loop, (void *)1);
  pthread_create(&b, 0, loop, (void *)2);
  pthread_join(a, 0);
  pthread_join(b, 0);
  return signal_stop(0) < 0;
}
