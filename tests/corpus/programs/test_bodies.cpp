// Two GoogleTest-style tests, emulated without GoogleTest: each generated class's TestBody races on its own global
// with a lambda thread it starts, as TEST(Racy, Counter) and TEST(Leaky, Reader) of tests/batch_programs do.
// Signature v2 named both races `TestBody` vs `operator()`; v3 keeps the test's class.
#include <thread>

namespace testing {
class Test {
 public:
  virtual ~Test() = default;
  virtual void TestBody() = 0;
};
}  // namespace testing

int racy_counter = 0;
int leaked_counter = 0;

class Racy_Counter_Test : public testing::Test {
 public:
  void TestBody() override;
};

class Leaky_Reader_Test : public testing::Test {
 public:
  void TestBody() override;
};

// GoogleTest calls TestBody through the vtable from another file: never inlined.
__attribute__((noinline)) void Racy_Counter_Test::TestBody() {
  std::thread other([] { ++racy_counter; });
  ++racy_counter;
  other.join();
}

__attribute__((noinline)) void Leaky_Reader_Test::TestBody() {
  std::thread other([] { leaked_counter += 2; });
  leaked_counter = 0;
  other.join();
}

int main(int argc, char**) {
  testing::Test* tests[] = {new Racy_Counter_Test, new Leaky_Reader_Test};
  // Run in an order the compiler cannot see, as GoogleTest's registry does.
  for (int i = 0; i < 2; ++i) {
    testing::Test* test = tests[(i + argc + 1) % 2];
    test->TestBody();
    delete test;
  }
  return racy_counter + leaked_counter == 1;
}
