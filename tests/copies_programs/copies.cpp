// Correct code that fails only when two copies of it run at once, as racegate's repetitions may run them and
// ctest -j never does. `file`: writes its pid to a fixed file name in its working directory, waits, reads it back.
// `port`: binds a fixed loopback port (127.0.0.1 only) and holds it a while. A helper thread does the work, so the
// test runs two threads and is repeated.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

static int fixed_file() {
    const std::string mine = std::to_string(getpid());
    { std::ofstream("copies-fixed.txt") << mine; }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::string read;
    std::ifstream("copies-fixed.txt") >> read;
    if (read != mine) {
        std::fprintf(stderr, "copies-fixed.txt holds %s, not my %s\n", read.c_str(), mine.c_str());
        return 1;
    }
    return 0;
}

static int fixed_port(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 1) != 0) {
        std::fprintf(stderr, "bind 127.0.0.1:%d: %s\n", port, std::strerror(errno));
        close(fd);
        return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    close(fd);
    return 0;
}

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "file";
    int status = 2;
    std::thread worker([&] { status = mode == "port" ? fixed_port(argc > 2 ? std::atoi(argv[2]) : 0) : fixed_file(); });
    worker.join();
    return status;
}
