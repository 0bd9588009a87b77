// ScoreKeeper: racy/score_tally.h redone channel style: one owner thread
// holds the total, the workers only send it messages.
//
// Why it works: the total is touched by exactly one thread, the owner, so
// there is nothing to race on. Workers push their partial sums into a
// Channel (a mutex + condition variable queue); the push's unlock
// happens-before the owner's pop, so each message's contents are published
// to the owner. close() + join() hand the final total back to the caller.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

template <typename T>
class Channel {
 public:
  void send(T value) {
    {
      std::lock_guard<std::mutex> hold(mutex_);
      queue_.push_back(std::move(value));
    }
    ready_.notify_one();
  }

  // Blocks until a value arrives; empty once closed and drained.
  std::optional<T> receive() {
    std::unique_lock<std::mutex> hold(mutex_);
    ready_.wait(hold, [this] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return std::nullopt;
    T value = std::move(queue_.front());
    queue_.pop_front();
    return value;
  }

  void close() {
    {
      std::lock_guard<std::mutex> hold(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<T> queue_;
  bool closed_ = false;
};

class ScoreKeeper {
 public:
  ScoreKeeper();
  ~ScoreKeeper();
  // Safe from any thread.
  void submit(long points) { inbox_.send(points); }
  // Stops the owner thread and returns the total it kept.
  long finish();

 private:
  void own_total();
  Channel<long> inbox_;
  long total_ = 0;  // only the owner thread touches this until finish()
  std::thread owner_;
};
