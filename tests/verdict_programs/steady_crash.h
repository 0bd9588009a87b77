// Two ways for a test to crash on every run, plain or perturbed, without any TSan report: the situation where a
// whole suite crashes for one reason outside the tests. Shared by steady_crash.cpp (one program, a mode per
// argv[1]) and steady_crash_gtest.cpp (GoogleTest cases).
#pragma once

#include <netdb.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

// Looks up "localhost" with glibc's getaddrinfo_a (cpp-httplib's non-blocking name lookup). glibc starts its
// resolver thread itself, past TSan's pthread_create interceptor; on the glibc and TSan runtimes this was written
// against (glibc 2.36, clang 14, gcc 12) that thread crashes in TSan's malloc: SIGSEGV, no report.
inline int resolve_localhost() {
  gaicb request;
  std::memset(&request, 0, sizeof request);
  request.ar_name = "localhost";
  gaicb* requests[] = {&request};
  if (getaddrinfo_a(GAI_WAIT, requests, 1, nullptr) != 0) return 1;
  return gai_error(&request) == 0 ? 0 : 1;
}

// Kills the process with SIGSEGV through raw system calls: TSan's interceptors never see the signal, so nothing
// is reported on any runtime.
[[noreturn]] inline void kill_with_segv() {
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
