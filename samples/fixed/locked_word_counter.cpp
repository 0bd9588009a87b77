#include "locked_word_counter.h"

void LockedWordCounter::add(const std::string& text) {
  std::string::size_type start = 0;
  while (start < text.size()) {
    std::string::size_type end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) {
      const std::string word = text.substr(start, end - start);
      std::lock_guard<std::mutex> hold(mutex_);
      ++counts_[word];
    }
    start = end + 1;
  }
}

int LockedWordCounter::count(const std::string& word) const {
  std::lock_guard<std::mutex> hold(mutex_);
  auto it = counts_.find(word);
  return it == counts_.end() ? 0 : it->second;
}

int LockedWordCounter::total() const {
  std::lock_guard<std::mutex> hold(mutex_);
  int sum = 0;
  for (const auto& entry : counts_) sum += entry.second;
  return sum;
}
