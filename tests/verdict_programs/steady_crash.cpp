// A test program that crashes on every run without any TSan report (steady_crash.h); argv[1] picks how:
//   resolve  glibc's getaddrinfo_a resolver thread crashing under TSan (the cpp-httplib field test)
//   segv     kills itself with SIGSEGV before any work
//   pass     two threads that share nothing
#include <cstdio>
#include <string>
#include <thread>

#include "steady_crash.h"

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "segv") kill_with_segv();
  if (mode == "resolve") return resolve_localhost();
  if (mode == "pass") {
    std::thread([] {}).join();
    return 0;
  }
  std::fprintf(stderr, "usage: %s resolve|segv|pass\n", argv[0]);
  return 2;
}
