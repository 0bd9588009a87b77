/* Two `assert(rc == 0)` of one test file in two functions (field tests #42: libzmq's test files hold hundreds):
   `open_ctx` fails, or with the argument `destroy`, `destroy_ctx`. Two failures, two buckets, whatever the lines. */
/* corpus: variant=destroy destroy */
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
