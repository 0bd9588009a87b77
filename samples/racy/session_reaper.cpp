#include "session_reaper.h"

#include <thread>

namespace {

__attribute__((noinline)) void serve(Session* session, int requests) {
  for (int i = 0; i < requests; ++i) {
    session->requests_served += 1;
    session->bytes_sent += 512;
  }
}

}  // namespace

void serve_then_close(int requests) {
  auto* session = new Session;
  std::thread worker(serve, session, requests);
  // The close request arrives: the session is deleted while the worker may still be serving it.
  delete session;
  worker.join();
}
