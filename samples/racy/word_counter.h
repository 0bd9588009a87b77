// WordCounter: counts words from several documents at once.
//
// What goes wrong: add() is called from several threads and every call
// inserts into / increments the same std::unordered_map with no lock. This
// is the C++ twin of Go's "concurrent map writes": the bucket array, the
// element count and the counters are written by two threads with nothing
// ordering the writes. Lost counts, a corrupted bucket list or a crash are
// all possible; usually the run just looks fine.
//
// TSan: "data race", a write in WordCounter::add (inside the inlined
// std::_Hashtable code) against a previous write by the other thread.
// Fixes: fixed/locked_word_counter.h (one std::mutex),
//        fixed/sharded_word_counter.h (one mutex per shard).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

class WordCounter {
 public:
  WordCounter();
  // Splits `text` on spaces and counts every word.
  void add(const std::string& text);
  int count(const std::string& word) const;
  int total() const;

 private:
  std::unordered_map<std::string, int> counts_;
};
