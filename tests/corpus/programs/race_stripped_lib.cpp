// corpus: shared_lib=lib/codec.cpp
// Two threads race inside a stripped shared library: frames are (libcodec.so+0x...) and <null>.
#include <thread>

extern "C" void codec_feed(int v);

int main() {
  std::thread a(codec_feed, 1);
  std::thread b(codec_feed, 2);
  a.join();
  b.join();
  return 0;
}
