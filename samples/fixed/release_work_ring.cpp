#include "release_work_ring.h"

#include <cstdint>
#include <thread>

WorkRing::WorkRing(std::size_t capacity) : slots_(new Slot[capacity]), mask_(capacity - 1) {
  for (std::size_t i = 0; i < capacity; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
}

bool WorkRing::claim_push(std::size_t* claimed) {
  std::size_t pos = push_pos_.load(std::memory_order_relaxed);
  for (;;) {
    std::size_t seq = slots_[pos & mask_].sequence.load(std::memory_order_acquire);
    std::intptr_t lag = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
    if (lag == 0) {
      if (push_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (lag < 0) {
      return false;  // the consumer has not taken this slot's item of the previous lap yet
    } else {
      pos = push_pos_.load(std::memory_order_relaxed);
    }
  }
  *claimed = pos;
  return true;
}

void WorkRing::push(int item) {
  std::size_t pos;
  while (!claim_push(&pos)) std::this_thread::yield();
  Slot& slot = slots_[pos & mask_];
  slot.item = item;
  // The release store publishes the item with the sequence number.
  slot.sequence.store(pos + 1, std::memory_order_release);
}

bool WorkRing::try_push(int item) {
  std::size_t pos;
  if (!claim_push(&pos)) return false;
  Slot& slot = slots_[pos & mask_];
  slot.item = item;
  slot.sequence.store(pos + 1, std::memory_order_release);
  return true;
}

bool WorkRing::claim_pop(std::size_t* claimed, bool retry) {
  std::size_t pos = pop_pos_.load(std::memory_order_relaxed);
  for (;;) {
    std::size_t seq = slots_[pos & mask_].sequence.load(std::memory_order_acquire);
    std::intptr_t lag = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
    if (lag == 0) {
      if (pop_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      if (!retry) return false;
    } else if (lag < 0) {
      return false;  // nothing published at this position yet
    } else {
      pos = pop_pos_.load(std::memory_order_relaxed);
    }
  }
  *claimed = pos;
  return true;
}

bool WorkRing::pop(int* out) {
  std::size_t pos;
  if (!claim_pop(&pos, true)) return false;
  Slot& slot = slots_[pos & mask_];
  *out = slot.item;
  // Handed back with a release store: this read happens before the next lap's write.
  slot.sequence.store(pos + mask_ + 1, std::memory_order_release);
  return true;
}

bool WorkRing::steal(int* out) {
  std::size_t pos;
  if (!claim_pop(&pos, false)) return false;
  Slot& slot = slots_[pos & mask_];
  *out = slot.item;
  slot.sequence.store(pos + mask_ + 1, std::memory_order_release);
  return true;
}
