/* Two `assert(rc == 0)` of one test file in two functions (field tests #42: libzmq's test files hold hundreds):
   `open_ctx` fails, or with the argument `destroy`, `destroy_ctx`. two_asserts.c after an edit above its asserts moved
   them: built under that file's name, its buckets are that file's. */
/* corpus: variant=destroy destroy */
/* corpus: as=two_asserts.c */
#include <stdio.h>

/* An edit above the asserts: they move down by these lines, and their buckets must not change. */
static int unused_counter;
#include <assert.h>
#include <string.h>

static int open_rc = -1, destroy_rc = -1;

static void open_ctx(void) {
  int rc = open_rc;
  assert(rc == 0);
}

static void destroy_ctx(void) {
  int rc = destroy_rc;
  assert(rc == 0);
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "destroy") == 0) {
    open_rc = 0;
  }
  open_ctx();
  destroy_ctx();
  return 0;
}
