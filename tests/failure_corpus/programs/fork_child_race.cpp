// A test that forks a child which races: TSan makes the child exit 66, and the parent fails with exit 1.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

static int counter = 0;

int main() {
  pid_t child = fork();
  if (child == 0) {
    std::thread a([] { ++counter; });
    std::thread b([] { ++counter; });
    a.join();
    b.join();
    return 0;
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "child failed with status %d\n", WEXITSTATUS(status));
    return 1;
  }
  return 0;
}
