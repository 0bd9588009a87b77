// SessionReaper: closes idle sessions on a background thread while a worker still serves them.
//
// What goes wrong: `serve_then_close` hands a Session to a worker thread and deletes it as soon as the
// close is requested, without waiting for the worker. The worker may still be touching the session: a
// lifetime bug (a thread still using an object another thread destroyed).
//
// TSan sees it one of two ways, depending on the interleaving: "heap-use-after-free" (the worker's access
// came after the delete) or "data race" (the delete and the access unordered, the delete counting as a
// write to the whole block). Both name the same two places: racegate files them as one bucket.
// Fix: join (or otherwise wait for) every thread that uses the session before deleting it
// (fixed/joined_session_reaper.h).
#pragma once

struct Session {
  int requests_served = 0;
  int bytes_sent = 0;
};

// Serves `requests` requests on a worker thread and closes the session; returns nothing the caller uses.
void serve_then_close(int requests);
