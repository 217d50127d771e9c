#include "daemon/trace/capture.hpp"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace qvpn::trace {

namespace {

constexpr size_t kFrameSlotBytes = 2048;  // TPACKET_V3 ignores it, but it must divide a block

Failure capture_failure(const std::string& ifname, const char* step, int e) {
    return fail(msg("TRC0017", ifname, std::string(step) + ": " + std::strerror(e)).with_errno(e));
}

// A classic BPF program, built with labels so the jump offsets are computed,
// not counted by hand.
class FilterBuilder {
public:
    // Append; jt/jf name labels (empty: fall through).
    void add(uint16_t code, uint32_t k, std::string jt = {}, std::string jf = {}) {
        insns_.push_back({sock_filter{code, 0, 0, k}, std::move(jt), std::move(jf)});
    }
    void label(const std::string& name) { labels_.emplace_back(name, insns_.size()); }
    std::vector<sock_filter> build() const {
        std::vector<sock_filter> out;
        for (size_t i = 0; i < insns_.size(); ++i) {
            sock_filter f = insns_[i].f;
            f.jt = offset(insns_[i].jt, i);
            f.jf = offset(insns_[i].jf, i);
            out.push_back(f);
        }
        return out;
    }

private:
    struct Insn {
        sock_filter f;
        std::string jt, jf;
    };
    uint8_t offset(const std::string& name, size_t from) const {
        for (const auto& [n, at] : labels_) {
            if (n == name) {
                return static_cast<uint8_t>(at - from - 1);
            }
        }
        return 0;
    }
    std::vector<Insn> insns_;
    std::vector<std::pair<std::string, size_t>> labels_;
};

// The frames the trace job wants, cut in the kernel. DTADIR(*SND) keeps only
// frames the host sends. With USRDTA(n) the filter returns a snap length:
// the IPv4 header length plus room for the transport headers that may
// follow (TCP with options 60, UDP with a non-ESP marker and IKE header 40,
// anything else 64), or a fixed 168 bytes past the link header for IPv6 and
// other protocols, plus n. The recorder then cuts each frame exactly; the
// kernel only has to copy less, so its ring holds more frames when the job
// falls behind. (A frame too short for the IPv4 header loads is dropped by
// the filter; a valid IPv4 frame is at least 34 bytes.)
std::vector<sock_filter> capture_filter(const CaptureOptions& o) {
    FilterBuilder b;
    if (o.dtadir == DataDir::Send) {
        b.add(BPF_LD | BPF_B | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE));
        b.add(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, "", "drop");
    }
    constexpr uint32_t kWhole = 0x40000;
    if (o.user_bytes == kUserDataAll) {
        b.add(BPF_RET | BPF_K, kWhole);
    } else {
        const uint32_t link = o.link == LinkType::Ethernet ? 14 : 0;
        const uint32_t u = std::min<uint32_t>(o.user_bytes, 0xffff);
        if (o.link == LinkType::Ethernet) {
            b.add(BPF_LD | BPF_H | BPF_ABS, 12);
            b.add(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, "", "other");
        } else {
            b.add(BPF_LD | BPF_B | BPF_ABS, 0);
            b.add(BPF_ALU | BPF_AND | BPF_K, 0xf0);
            b.add(BPF_JMP | BPF_JEQ | BPF_K, 0x40, "", "other");
        }
        b.add(BPF_LDX | BPF_B | BPF_MSH, link);
        b.add(BPF_LD | BPF_B | BPF_ABS, link + 9);
        b.add(BPF_JMP | BPF_JEQ | BPF_K, 6, "tcp");
        b.add(BPF_JMP | BPF_JEQ | BPF_K, 17, "udp");
        b.add(BPF_MISC | BPF_TXA, 0);
        b.add(BPF_ALU | BPF_ADD | BPF_K, link + 64 + u);
        b.add(BPF_RET | BPF_A, 0);
        b.label("tcp");
        b.add(BPF_MISC | BPF_TXA, 0);
        b.add(BPF_ALU | BPF_ADD | BPF_K, link + 60 + u);
        b.add(BPF_RET | BPF_A, 0);
        b.label("udp");
        b.add(BPF_MISC | BPF_TXA, 0);
        b.add(BPF_ALU | BPF_ADD | BPF_K, link + 40 + u);
        b.add(BPF_RET | BPF_A, 0);
        b.label("other");
        b.add(BPF_RET | BPF_K, link + 168 + u);
    }
    b.label("drop");
    b.add(BPF_RET | BPF_K, 0);
    return b.build();
}

int attach_filter(int fd, const CaptureOptions& o) {
    std::vector<sock_filter> code = capture_filter(o);
    sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
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
    }
    if (attach_filter(c.fd_, o) != 0) {
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
    void* m =
        ::mmap(nullptr, c.map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, c.fd_, 0);
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
    : fd_(o.fd_),
      map_(o.map_),
      map_bytes_(o.map_bytes_),
      block_bytes_(o.block_bytes_),
      blocks_(o.blocks_),
      next_block_(o.next_block_) {
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
            auto* sll =
                reinterpret_cast<sockaddr_ll*>(block + off + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
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
