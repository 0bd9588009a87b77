/* Two `assert(rc == 0)` of one test file in two functions (field tests #42: libzmq's test files hold hundreds):
   `open_ctx` fails, or with the argument `destroy`, `destroy_ctx`. two_asserts.c after an edit above its asserts moved
   them: built under that file's name, its buckets are that file's. */
/* corpus: variant=destroy destroy */
/* corpus: as=two_asserts.c */
/* An edit above the asserts: they move down by these lines, and their buckets must not change. */
static int unused_counter;
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
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

/* With TWO_ASSERTS_TURNS naming a file, runs take turns: each appends a line to it, and every second run fails in
   destroy_ctx (a session whose runs alternate between the two failures). */
static int second_turn(void) {
  const char* path = getenv("TWO_ASSERTS_TURNS");
  FILE* turns = path ? fopen(path, "a+") : NULL;
  int earlier = 0;
  if (turns == NULL) return 0;
  for (int c; (c = fgetc(turns)) != EOF;) earlier += c == '\n';
  fputs("run\n", turns);
  fclose(turns);
  return earlier % 2;
}

int main(int argc, char** argv) {
  if ((argc > 1 && strcmp(argv[1], "destroy") == 0) || second_turn()) {
    open_rc = 0;
  }
  open_ctx();
  destroy_ctx();
  return 0;
}
