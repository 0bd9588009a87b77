// A test program that crashes on every run, plain or perturbed, without any TSan report: the situation where a
// whole suite crashes for one reason outside the tests. argv[1] picks the behaviour:
//   resolve  looks up "localhost" with glibc's getaddrinfo_a (cpp-httplib's non-blocking name lookup); glibc
//            starts its resolver thread itself, past TSan's pthread_create interceptor, and on the glibc and
//            TSan runtimes this was written against the thread crashes in TSan's malloc (SIGSEGV, no report)
//   segv     kills itself with SIGSEGV before any work, through raw system calls: TSan's interceptors never see
//            the signal, so nothing is reported on any runtime
//   pass     two threads that share nothing
#include <netdb.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

int resolve_localhost() {
  gaicb request;
  std::memset(&request, 0, sizeof request);
  request.ar_name = "localhost";
  gaicb* requests[] = {&request};
  if (getaddrinfo_a(GAI_WAIT, requests, 1, nullptr) != 0) return 1;
  return gai_error(&request) == 0 ? 0 : 1;
}

[[noreturn]] void kill_with_segv() {
  // The kernel's sigaction layout: handler, flags, restorer, mask. A zero handler is SIG_DFL.
  struct {
    void* handler;
    unsigned long flags;
    void* restorer;
    unsigned long mask;
  } default_action = {};
  syscall(SYS_rt_sigaction, SIGSEGV, &default_action, nullptr, sizeof default_action.mask);
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGSEGV);
  _exit(1);  // not reached: the signal's default action ends the process
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "segv") kill_with_segv();
  if (mode == "resolve") return resolve_localhost();
  if (mode == "pass") {
    int mine = 0;
    std::thread([] { int theirs = 1; (void)theirs; }).join();
    return mine;
  }
  std::fprintf(stderr, "usage: %s resolve|segv|pass\n", argv[0]);
  return 2;
}
