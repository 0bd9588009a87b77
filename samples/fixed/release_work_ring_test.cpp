#include "release_work_ring.h"

#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <vector>

namespace {

constexpr int kItems = 500;

// One producer thread and one consumer (this thread) share a small ring, so
// every slot is written and read lap after lap; the consumer checks that it
// takes every item once (with the fix, the items' hand-over is ordered
// too).
void ProduceAndConsume(const std::function<void(WorkRing&, int)>& produce,
                       const std::function<bool(WorkRing&, int*)>& consume) {
  WorkRing ring(8);
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) produce(ring, i);
  });
  std::vector<int> taken;
  int item;
  while (taken.size() < kItems) {
    if (consume(ring, &item)) {
      taken.push_back(item);
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_EQ(taken.size(), static_cast<std::size_t>(kItems));
  EXPECT_FALSE(ring.pop(&item));
}

void Push(WorkRing& ring, int i) { ring.push(i); }

void TryPushUntilTaken(WorkRing& ring, int i) {
  while (!ring.try_push(i)) std::this_thread::yield();
}

bool Pop(WorkRing& ring, int* out) { return ring.pop(out); }

bool Steal(WorkRing& ring, int* out) { return ring.steal(out); }

}  // namespace

TEST(ReleaseWorkRingFixed, PushThenPop) { ProduceAndConsume(Push, Pop); }

TEST(ReleaseWorkRingFixed, TryPushThenPop) { ProduceAndConsume(TryPushUntilTaken, Pop); }

TEST(ReleaseWorkRingFixed, PushThenSteal) { ProduceAndConsume(Push, Steal); }
