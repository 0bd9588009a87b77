// A program's own fatal message on stderr, then abort(): the message is the failure.
#include <cstdio>
#include <cstdlib>

int main() {
  std::fprintf(stderr, "fatal: pool exhausted after 64 of 64 slots\n");
  std::abort();
}
