#include "daemon/trace/capture.hpp"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace qvpn::trace {

namespace {

constexpr size_t kFrameSlotBytes = 2048;  // TPACKET_V3 ignores it, but it must divide a block

Failure capture_failure(const std::string& ifname, const char* step, int e) {
    return fail(msg("TRC0017", ifname, std::string(step) + ": " + std::strerror(e)).with_errno(e));
}

// DTADIR(*SND): keep only frames the host sends, in the kernel, so received
// frames never take room in the ring.
int attach_send_only_filter(int fd) {
    static sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0x40000),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    return ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

}  // namespace

Result<PacketCapture> PacketCapture::open(const std::string& ifname, const CaptureOptions& o) {
    PacketCapture c;
    c.block_bytes_ = o.block_bytes;
    c.blocks_ = o.blocks;

    // Protocol 0 until bind: nothing from other interfaces is queued meanwhile.
    int type = o.link == LinkType::Ethernet ? SOCK_RAW : SOCK_DGRAM;
    c.fd_ = ::socket(AF_PACKET, type | SOCK_CLOEXEC, 0);
    if (c.fd_ < 0) {
        return capture_failure(ifname, "socket", errno);
    }
    int version = TPACKET_V3;
    if (::setsockopt(c.fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
        return capture_failure(ifname, "PACKET_VERSION", errno);
    }
    if (o.dtadir == DataDir::Receive) {
        // Older kernels lack it; the recorder drops sent frames itself then.
        int one = 1;
        (void)::setsockopt(c.fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    } else if (o.dtadir == DataDir::Send && attach_send_only_filter(c.fd_) != 0) {
        return capture_failure(ifname, "SO_ATTACH_FILTER", errno);
    }

    tpacket_req3 req{};
    req.tp_block_size = static_cast<unsigned>(o.block_bytes);
    req.tp_block_nr = static_cast<unsigned>(o.blocks);
    req.tp_frame_size = kFrameSlotBytes;
    req.tp_frame_nr = static_cast<unsigned>(o.block_bytes * o.blocks / kFrameSlotBytes);
    req.tp_retire_blk_tov = o.block_timeout_ms;
    if (::setsockopt(c.fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) {
        return capture_failure(ifname, "PACKET_RX_RING", errno);
    }
    c.map_bytes_ = o.block_bytes * o.blocks;
    void* m = ::mmap(nullptr, c.map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                     c.fd_, 0);
    if (m == MAP_FAILED) {
        return capture_failure(ifname, "mmap", errno);
    }
    c.map_ = static_cast<uint8_t*>(m);

    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = o.ifindex;
    if (::bind(c.fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        return capture_failure(ifname, "bind", errno);
    }
    return c;
}

PacketCapture::PacketCapture(PacketCapture&& o) noexcept
    : fd_(o.fd_), map_(o.map_), map_bytes_(o.map_bytes_), block_bytes_(o.block_bytes_),
      blocks_(o.blocks_), next_block_(o.next_block_) {
    o.fd_ = -1;
    o.map_ = nullptr;
}

PacketCapture::~PacketCapture() {
    if (map_ != nullptr) {
        ::munmap(map_, map_bytes_);
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

size_t PacketCapture::drain(const std::function<bool(const CapturedFrame&)>& on_frame) {
    size_t frames = 0;
    bool want_more = true;
    for (size_t spins = 0; spins < blocks_; ++spins) {
        // The ring is the kernel's TPACKET_V3 ABI: block descriptors and frame
        // headers at offsets the kernel wrote; these are not packet bytes.
        uint8_t* block = map_ + next_block_ * block_bytes_;
        auto* desc = reinterpret_cast<tpacket_block_desc*>(block);
        if ((__atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) ==
            0) {
            break;
        }
        uint32_t count = desc->hdr.bh1.num_pkts;
        size_t off = desc->hdr.bh1.offset_to_first_pkt;
        for (uint32_t i = 0; i < count && off + sizeof(tpacket3_hdr) <= block_bytes_; ++i) {
            auto* h = reinterpret_cast<tpacket3_hdr*>(block + off);
            auto* sll = reinterpret_cast<sockaddr_ll*>(block + off +
                                                       TPACKET_ALIGN(sizeof(tpacket3_hdr)));
            if (want_more && off + h->tp_mac + h->tp_snaplen <= block_bytes_) {
                CapturedFrame f;
                f.time_ns = uint64_t(h->tp_sec) * 1000000000u + h->tp_nsec;
                f.direction =
                    sll->sll_pkttype == PACKET_OUTGOING ? Direction::Send : Direction::Receive;
                f.original_length = h->tp_len;
                f.data = ByteView(block + off + h->tp_mac, h->tp_snaplen);
                want_more = on_frame(f);
                ++frames;
            }
            if (h->tp_next_offset == 0) {
                break;
            }
            off += h->tp_next_offset;
        }
        __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        next_block_ = (next_block_ + 1) % blocks_;
    }
    return frames;
}

uint64_t PacketCapture::take_drops() {
    tpacket_stats_v3 st{};
    socklen_t len = sizeof st;
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) {
        return 0;
    }
    return st.tp_drops;
}

int PacketCapture::take_error() {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        return errno;
    }
    return err;
}

}  // namespace qvpn::trace
