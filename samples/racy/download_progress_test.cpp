#include "download_progress.h"

#include <gtest/gtest.h>

TEST(DownloadProgressRace, CallbackRunsOnLibraryThread) {
  const std::vector<int> chunks(16, 256);
  DownloadProgress progress(16 * 256);
  Downloader download(chunks, [&progress](int bytes) { progress.on_chunk(bytes); });
  int last_percent = 0;
  do {
    last_percent = progress.percent();  // progress bar redraw
    std::this_thread::yield();
  } while (!download.finished());
  download.wait();
  EXPECT_LE(last_percent, 100);
  EXPECT_EQ(progress.received(), 16 * 256);
}
