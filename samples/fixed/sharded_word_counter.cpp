#include "sharded_word_counter.h"

#include <functional>

ShardedWordCounter::Shard& ShardedWordCounter::shard_for(const std::string& word) {
  return shards_[std::hash<std::string>{}(word) % kShards];
}

const ShardedWordCounter::Shard& ShardedWordCounter::shard_for(const std::string& word) const {
  return shards_[std::hash<std::string>{}(word) % kShards];
}

void ShardedWordCounter::add(const std::string& text) {
  std::string::size_type start = 0;
  while (start < text.size()) {
    std::string::size_type end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) {
      const std::string word = text.substr(start, end - start);
      Shard& shard = shard_for(word);
      std::lock_guard<std::mutex> hold(shard.mutex);
      ++shard.counts[word];
    }
    start = end + 1;
  }
}

int ShardedWordCounter::count(const std::string& word) const {
  const Shard& shard = shard_for(word);
  std::lock_guard<std::mutex> hold(shard.mutex);
  auto it = shard.counts.find(word);
  return it == shard.counts.end() ? 0 : it->second;
}

int ShardedWordCounter::total() const {
  int sum = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> hold(shard.mutex);
    for (const auto& entry : shard.counts) sum += entry.second;
  }
  return sum;
}
