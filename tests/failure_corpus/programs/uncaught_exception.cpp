// An exception nobody catches: std::terminate prints its type and what() and aborts.
#include <stdexcept>
#include <thread>

int main() {
  std::thread([] { throw std::runtime_error("queue closed while a push was waiting"); }).join();
}
