// glog's CHECK_EQ: "Check failed: a == b (3 vs. 5)" on a fatal log line, then abort.
// corpus: libs=-lglog
#include <glog/logging.h>

int main(int, char** argv) {
  google::InitGoogleLogging(argv[0]);
  int credits = 3, debits = 5;
  CHECK_EQ(credits, debits) << "credits and debits differ";
}
