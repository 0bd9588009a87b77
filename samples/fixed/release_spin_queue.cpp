#include "release_spin_queue.h"

#include <cstdint>

SpinQueue::SpinQueue(std::size_t capacity) : cells_(new Cell[capacity]), mask_(capacity - 1) {
  for (std::size_t i = 0; i < capacity; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
}

bool SpinQueue::try_push(const Task& task) {
  std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  Cell* cell;
  for (;;) {
    cell = &cells_[pos & mask_];
    std::size_t seq = cell->sequence.load(std::memory_order_acquire);
    std::intptr_t lag = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
    if (lag == 0) {
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (lag < 0) {
      return false;  // the consumer of the previous lap has not taken this cell yet
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
  cell->task = task;
  cell->sequence.store(pos + 1, std::memory_order_release);
  return true;
}

bool SpinQueue::try_pop(Task* out) {
  std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  Cell* cell;
  for (;;) {
    cell = &cells_[pos & mask_];
    std::size_t seq = cell->sequence.load(std::memory_order_acquire);
    std::intptr_t lag = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
    if (lag == 0) {
      if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
    } else if (lag < 0) {
      return false;  // nothing published at this position yet
    } else {
      pos = dequeue_pos_.load(std::memory_order_relaxed);
    }
  }
  *out = cell->task;
  cell->sequence.store(pos + mask_ + 1, std::memory_order_release);
  return true;
}
