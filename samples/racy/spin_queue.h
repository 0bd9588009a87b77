// SpinQueue: a bounded multi-producer multi-consumer ring of tasks, lock-free.
//
// Each cell carries a sequence number that says whose turn the cell is: the
// producer that claimed position p may fill the cell when its sequence is p,
// and marks it full by setting it to p + 1; the consumer that claimed p may
// read it then, and hands it back for position p + capacity. Positions are
// claimed with compare-exchange, the task itself is a plain struct.
//
// The bug: try_push marks the cell full with a relaxed store. The consumer
// sees the new sequence number, but nothing orders the producer's write of
// the task before the consumer's read of it: a data race on Cell::task. On
// x86 the hardware keeps the stores in order, so the tasks arrive intact and
// the test passes; TSan (and a weaker CPU, or the compiler) does not promise
// that.
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
