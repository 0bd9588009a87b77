// WorkRing: a bounded ring of work items, lock-free, with producers of two
// kinds, a blocking `push` (waits for room) and a non-blocking `try_push`
// (gives up when the ring is full), and consumers of two kinds: the owner's
// `pop` and a thief's `steal` (one try, never waits).
//
// Each slot carries a sequence number that says whose turn it is: the
// producer that claimed position p may fill the slot when its sequence is p
// and marks it full with p + 1; the consumer that claimed p reads it then and
// hands it back for position p + capacity. Positions are claimed with
// compare-exchange; the item itself is a plain int.
//
// The bug: both hand-overs are relaxed stores, so nothing orders a producer's
// write of the item before a consumer's read, nor that read before the next
// lap's write. One array races in as many ways as there are pairs of a
// producer and a consumer: push vs pop, try_push vs pop, push vs steal. One
// fix (release stores, release_work_ring) closes them all.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

class WorkRing {
 public:
  explicit WorkRing(std::size_t capacity);  // a power of two, at least 2
  void push(int item);                       // waits for room
  bool try_push(int item);                   // false when full
  bool pop(int* out);                        // false when empty
  bool steal(int* out);                      // false when empty or another consumer won

 private:
  struct Slot {
    std::atomic<std::size_t> sequence;
    int item;
  };
  bool claim_push(std::size_t* pos);
  bool claim_pop(std::size_t* pos, bool retry);
  std::unique_ptr<Slot[]> slots_;
  std::size_t mask_;
  std::atomic<std::size_t> push_pos_{0};
  std::atomic<std::size_t> pop_pos_{0};
};
