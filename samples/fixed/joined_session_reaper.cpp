#include "joined_session_reaper.h"

#include <thread>

namespace {

__attribute__((noinline)) void serve(JoinedSession* session, int requests) {
  for (int i = 0; i < requests; ++i) {
    session->requests_served += 1;
    session->bytes_sent += 512;
  }
}

}  // namespace

void serve_join_then_close(int requests) {
  auto* session = new JoinedSession;
  std::thread worker(serve, session, requests);
  worker.join();  // the worker is done with the session before it goes
  delete session;
}
