// The fix of racy/session_reaper.h: the session is deleted only after the worker that uses it has been joined.
#pragma once

struct JoinedSession {
  int requests_served = 0;
  int bytes_sent = 0;
};

// Serves `requests` requests on a worker thread, waits for it, then closes the session.
void serve_join_then_close(int requests);
