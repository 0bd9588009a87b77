#include "download_progress.h"

#include <utility>

Downloader::Downloader(std::vector<int> chunks, std::function<void(int)> on_chunk)
    : chunks_(std::move(chunks)), on_chunk_(std::move(on_chunk)), worker_([this] { deliver_all(); }) {}

Downloader::~Downloader() { wait(); }

void Downloader::wait() {
  if (worker_.joinable()) worker_.join();
}

void Downloader::deliver_all() {
  for (int bytes : chunks_) {
    on_chunk_(bytes);  // the caller's code, on this thread
    std::this_thread::yield();
  }
  finished_.store(true, std::memory_order_release);
}

void DownloadProgress::on_chunk(int bytes) {
  received_ += bytes;  // written on the downloader's thread
}

int DownloadProgress::percent() const {
  return received_ * 100 / expected_bytes_;  // read on the caller's thread
}
