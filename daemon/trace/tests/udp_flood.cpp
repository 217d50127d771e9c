// udp_flood: sends numbered UDP datagrams at a fixed rate, for the trace
// tests (wrap, stop at full, buffer bounds under load) and the capture
// benchmark. Each payload begins with its sequence number (u32, big-endian).
//
//   udp_flood DST PORT RATE COUNT [SIZE]
//     RATE: datagrams per second, 0 = as fast as possible
//     SIZE: UDP payload bytes (default 18: a 60-byte Ethernet frame)
// Prints "sent N" (datagrams the kernel accepted) and exits 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBatch = 64;

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: udp_flood DST PORT RATE COUNT [SIZE]\n");
        return 2;
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
        std::fprintf(stderr, "udp_flood: bad address %s\n", argv[1]);
        return 2;
    }
    const double rate = std::atof(argv[3]);
    const uint64_t count = std::strtoull(argv[4], nullptr, 10);
    const size_t size = std::max<size_t>(argc > 5 ? std::strtoul(argv[5], nullptr, 10) : 18, 4);

    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        std::perror("udp_flood: socket");
        return 1;
    }
    std::vector<std::vector<unsigned char>> bufs(kBatch, std::vector<unsigned char>(size, 0x5a));
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);

    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    uint64_t sent = 0;
    while (sent < count) {
        uint64_t due = count;
        if (rate > 0) {
            double secs = std::chrono::duration<double>(Clock::now() - start).count();
            due = std::min<uint64_t>(count, static_cast<uint64_t>(secs * rate) + 1);
            if (due <= sent) {
                std::this_thread::sleep_for(std::chrono::microseconds(100));
                continue;
            }
        }
        size_t n = static_cast<size_t>(std::min<uint64_t>(kBatch, due - sent));
        for (size_t i = 0; i < n; ++i) {
            uint32_t seq = static_cast<uint32_t>(sent + i);
            bufs[i][0] = static_cast<unsigned char>(seq >> 24);
            bufs[i][1] = static_cast<unsigned char>(seq >> 16);
            bufs[i][2] = static_cast<unsigned char>(seq >> 8);
            bufs[i][3] = static_cast<unsigned char>(seq);
            iov[i] = {bufs[i].data(), size};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int r = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
        if (r < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED) {
                continue;
            }
            std::perror("udp_flood: sendmmsg");
            break;
        }
        sent += static_cast<uint64_t>(r);
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("sent %llu in %.3f s\n", static_cast<unsigned long long>(sent), secs);
    ::close(fd);
    return 0;
}
