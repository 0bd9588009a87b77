#include "word_counter.h"

WordCounter::WordCounter() {
  // Enough buckets that the test never rehashes: a concurrent rehash would
  // turn the silent race into a crash on most runs.
  counts_.reserve(256);
}

void WordCounter::add(const std::string& text) {
  std::string::size_type start = 0;
  while (start < text.size()) {
    std::string::size_type end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) ++counts_[text.substr(start, end - start)];  // unsynchronized
    start = end + 1;
  }
}

int WordCounter::count(const std::string& word) const {
  auto it = counts_.find(word);
  return it == counts_.end() ? 0 : it->second;
}

int WordCounter::total() const {
  int sum = 0;
  for (const auto& entry : counts_) sum += entry.second;
  return sum;
}
