// Downloader + DownloadProgress: a library that calls the caller's callback
// on the library's own worker thread.
//
// What goes wrong: the caller hands Downloader a callback that updates
// DownloadProgress (plain ints) and, meanwhile, polls percent() on its own
// thread to draw a progress bar. The callback runs on the downloader's
// thread, so the two threads touch the same ints with no lock. The final
// value is right (finished() is an acquire load that orders it), only the
// in-flight reads race, so nothing visibly breaks.
//
// TSan: "data race", a write in DownloadProgress::on_chunk (called from
// Downloader's thread) against a read in DownloadProgress::percent.
// Fix: make the counters std::atomic, or hand chunks to the caller's thread
// through a queue (fixed/score_keeper.h).
#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

class Downloader {
 public:
  // Starts delivering `chunks` (sizes in bytes) to `on_chunk` on a worker thread.
  Downloader(std::vector<int> chunks, std::function<void(int)> on_chunk);
  ~Downloader();
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  void wait();

 private:
  void deliver_all();
  std::vector<int> chunks_;
  std::function<void(int)> on_chunk_;
  std::atomic<bool> finished_{false};
  std::thread worker_;
};

class DownloadProgress {
 public:
  explicit DownloadProgress(int expected_bytes) : expected_bytes_(expected_bytes) {}
  void on_chunk(int bytes);
  int percent() const;
  int received() const { return received_; }

 private:
  int expected_bytes_;
  int received_ = 0;
};
