// ShardedWordCounter: a concurrent map built from N independently locked
// shards, for word counting at scale.
//
// Why it works: a word always hashes to the same shard, and each shard's
// map is only touched while holding that shard's mutex, so every access to
// one map is ordered by one lock, exactly as in locked_word_counter.h.
// Threads counting words that land in different shards do not wait for
// each other. Totals visit the shards one by one, taking each lock in turn
// (never two at once, so no lock-order inversion).
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

class ShardedWordCounter {
 public:
  void add(const std::string& text);
  int count(const std::string& word) const;
  int total() const;

 private:
  static constexpr std::size_t kShards = 8;
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, int> counts;
  };
  Shard& shard_for(const std::string& word);
  const Shard& shard_for(const std::string& word) const;
  std::array<Shard, kShards> shards_;
};
