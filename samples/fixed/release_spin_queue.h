// SpinQueue (fixed): a bounded multi-producer multi-consumer ring of tasks, lock-free.
//
// Each cell carries a sequence number that says whose turn the cell is: the
// producer that claimed position p may fill the cell when its sequence is p,
// and marks it full by setting it to p + 1; the consumer that claimed p may
// read it then, and hands it back for position p + capacity. Positions are
// claimed with compare-exchange, the task itself is a plain struct.
//
// racy/spin_queue.h with the publication fixed. Why it works: try_push marks
// the cell full with a release store and try_pop reads the sequence with an
// acquire load, so the producer's write of the task happens-before the
// consumer's read of it; the consumer's release store handing the cell back
// orders its read before the next lap's write in the same way.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

struct Task {
  int id;
  int payload;
};

class SpinQueue {
 public:
  explicit SpinQueue(std::size_t capacity);  // a power of two, at least 2
  bool try_push(const Task& task);            // false when full
  bool try_pop(Task* out);                    // false when empty

 private:
  struct Cell {
    std::atomic<std::size_t> sequence;
    Task task;
  };
  std::unique_ptr<Cell[]> cells_;
  std::size_t mask_;
  std::atomic<std::size_t> enqueue_pos_{0};
  std::atomic<std::size_t> dequeue_pos_{0};
};
