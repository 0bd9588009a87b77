// LockedWordCounter: racy/word_counter.h with one std::mutex.
//
// Why it works: every access to counts_ (insert, increment, lookup, walk)
// happens while holding mutex_. The unlock at the end of one add()
// happens-before the lock at the start of the next, so all map updates are
// totally ordered and TSan sees no unordered pair of accesses.
// Cost: threads counting at the same time wait for each other; see
// sharded_word_counter.h when that matters.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

class LockedWordCounter {
 public:
  void add(const std::string& text);
  int count(const std::string& word) const;
  int total() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> counts_;
};
