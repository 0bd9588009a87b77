// A lock is acquired by a second thread while the first still holds it (seen through the
// dynamic annotation interface, since a real pthread mutex would simply block).
#include <pthread.h>

extern "C" void AnnotateRWLockAcquired(const char *file, int line, void *lock, long is_w);

__attribute__((noinline)) void grab(void *lock) { AnnotateRWLockAcquired(__FILE__, __LINE__, lock, 1); }

__attribute__((noinline)) void *second_owner(void *lock) {
  grab(lock);
  return nullptr;
}

int main() {
  static int lock;
  grab(&lock);
  pthread_t th;
  pthread_create(&th, nullptr, second_owner, &lock);
  pthread_join(th, nullptr);
  return 0;
}
