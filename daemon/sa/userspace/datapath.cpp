#include "daemon/sa/userspace/datapath.hpp"

#include <cerrno>
#include <cstring>

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/sa/userspace/ip_hdr.hpp"
#include "daemon/sa/userspace/offload.hpp"

namespace qvpn::sa::us {

namespace {

constexpr int kBatch = 64;
constexpr size_t kHeadroom = 128;  // outer IPv6 + AH + ESP header + IV + IPComp header
constexpr size_t kMaxPacket = 9216;
constexpr size_t kTailroom = 256;  // padding, trailer, ICV, TFC rounding
constexpr size_t kBufSize = kHeadroom + kMaxPacket + kTailroom;
constexpr size_t kSuperPacket = 65536 + VnetHdr::kSize;  // one TSO read from TUN
constexpr int kUdpBatch = 8;                 // coalesced UDP datagrams per receive call
constexpr size_t kUdpBig = 65536;            // one of them
constexpr int kGsoMaxSegments = 64;          // the kernel's UDP_MAX_SEGMENTS (older kernels)
constexpr int64_t kAcquireIntervalNs = 5'000'000'000;  // one acquire per trap per 5 s

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               Clock::now().time_since_epoch())
        .count();
}

enum SockIdx { kUdp4, kUdp6, kEsp4, kEsp6, kAh4, kAh6, kSockCount };

// A template, not std::function: this runs for every packet.
template <class Expire>
void count_bytes(Life& life, uint64_t n, int64_t now, const Expire& expire) {
    uint64_t total = life.bytes.fetch_add(n, std::memory_order_relaxed) + n;
    life.packets.fetch_add(1, std::memory_order_relaxed);
    life.last_use_ns.store(now, std::memory_order_relaxed);
    const Lifetime& l = life.limits;
    if (l.soft_bytes && total >= l.soft_bytes && !life.soft_sent.load(std::memory_order_relaxed) &&
        !life.soft_sent.exchange(true)) {
        expire(false);
    }
    if (l.hard_bytes && total >= l.hard_bytes && !life.dead.load(std::memory_order_relaxed) &&
        !life.dead.exchange(true)) {
        expire(true);
    }
}

}  // namespace

// One worker's private state: packet buffers, send batches, scratch.
struct Datapath::Worker {
    int slot = 0;
    std::vector<uint8_t> mem;
    Pkt pkts[kBatch];
    // receive side
    mmsghdr rmsgs[kBatch];
    iovec riov[kBatch];
    sockaddr_storage raddr[kBatch];
    alignas(cmsghdr) uint8_t rctrl[kBatch][64];
    // send side: one batch per socket
    struct Batch {
        int n = 0;
        mmsghdr msgs[kBatch];
        iovec iov[kBatch];
        sockaddr_storage addr[kBatch];
        alignas(cmsghdr) uint8_t ctrl[kBatch][64];
    } send[kSockCount];
    // ESP-in-UDP: runs of equal-sized packets to one peer go out as one
    // UDP GSO send; the own socket reads coalesced (UDP GRO) datagrams.
    mmsghdr gso_msgs[kBatch];
    alignas(cmsghdr) uint8_t gso_ctrl[kBatch][96];
    std::vector<uint8_t> udp_big;
    mmsghdr umsgs[kUdpBatch];
    iovec uiov[kUdpBatch];
    sockaddr_storage uaddr[kUdpBatch];
    alignas(cmsghdr) uint8_t uctrl[kUdpBatch][64];
    Deflater deflater;
    std::vector<uint8_t> scratch = std::vector<uint8_t>(65536 + kHeadroom);
    // TUN offloads: the TSO packet read, and the GRO packet being joined
    std::vector<uint8_t> big;
    std::vector<uint8_t> gro_buf;
    std::unique_ptr<Coalescer> gro;

    Worker() : mem(size_t(kBatch) * kBufSize) {
        for (int i = 0; i < kBatch; ++i) {
            pkts[i].buf = mem.data() + size_t(i) * kBufSize;
            pkts[i].cap = kBufSize;
        }
    }
};

Datapath::Datapath(DatapathConfig cfg, EventSink sink)
    : cfg_(std::move(cfg)), sink_(std::move(sink)) {
    snap_.store(std::make_shared<const Snapshot>());
    external_ = std::make_unique<Worker>();
    external_->slot = cfg_.in_workers;
}

Datapath::~Datapath() {
    stop();
}

void Datapath::publish(std::shared_ptr<const Snapshot> s) { snap_.store(std::move(s)); }

std::shared_ptr<const Snapshot> Datapath::snapshot() const { return snap_.load(); }

void Datapath::set_udp_sender(int family, int fd) {
    (family == AF_INET6 ? udp_out6_ : udp_out4_).store(fd);
}

Status Datapath::start() {
    stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0) {
        int e = errno;
        return fail(msg("ESP0009", std::string("eventfd: ") + std::strerror(e)).with_errno(e));
    }
    for (int i = 0; i < cfg_.out_workers; ++i) {
        threads_.emplace_back([this, i] { outbound_loop(i); });
    }
    for (int j = 0; j < cfg_.in_workers; ++j) {
        threads_.emplace_back([this, j] { inbound_loop(j); });
    }
    return ok();
}

void Datapath::stop() {
    if (stop_fd_ < 0) {
        return;
    }
    stop_.store(true);
    uint64_t one = 1;
    ssize_t w = write(stop_fd_, &one, sizeof one);
    (void)w;
    for (auto& t : threads_) {
        t.join();
    }
    threads_.clear();
    close(stop_fd_);
    stop_fd_ = -1;
}

// ---------------------------------------------------------------- helpers

namespace {

void add_pktinfo(msghdr& mh, uint8_t* ctrl, const IpAddress& src) {
    cmsghdr* c = reinterpret_cast<cmsghdr*>(ctrl);
    if (src.is_v4()) {
        in_pktinfo pi;
        std::memset(&pi, 0, sizeof pi);
        std::memcpy(&pi.ipi_spec_dst, src.data(), 4);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        mh.msg_controllen = CMSG_SPACE(sizeof pi);
    } else {
        in6_pktinfo pi;
        std::memset(&pi, 0, sizeof pi);
        std::memcpy(&pi.ipi6_addr, src.data(), 16);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        mh.msg_controllen = CMSG_SPACE(sizeof pi);
    }
    mh.msg_control = ctrl;
}

socklen_t to_sockaddr(const IpAddress& a, uint16_t port, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof ss);
    if (a.is_v4()) {
        auto* s = reinterpret_cast<sockaddr_in*>(&ss);
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        std::memcpy(&s->sin_addr, a.data(), 4);
        return sizeof *s;
    }
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::memcpy(&s->sin6_addr, a.data(), 16);
    return sizeof *s;
}

std::optional<IpAddress> from_sockaddr(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET) {
        const auto* s = reinterpret_cast<const sockaddr_in*>(&ss);
        return IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&s->sin_addr), 4);
    }
    if (ss.ss_family == AF_INET6) {
        const auto* s = reinterpret_cast<const sockaddr_in6*>(&ss);
        return IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(&s->sin6_addr), 16);
    }
    return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------- inbound

namespace {

struct InboundCtx {
    const Snapshot& snap;
    DatapathStats& stats;
    Deflater& deflater;
    std::vector<uint8_t>& scratch;
    int slot;
    int tun_fd;
    int64_t now;
    const std::function<void(SaEvent)>& sink;
    Coalescer* gro;  // TUN offloads on: packets are joined before writing
};

void expire_event(const std::function<void(SaEvent)>& sink, const InSa& sa, bool hard) {
    SaEvent e;
    e.kind = hard ? SaEvent::Kind::HardExpire : SaEvent::Kind::SoftExpire;
    e.reqid = sa.reqid;
    e.conn = sa.conn;
    e.proto = sa.proto == 51 ? IpsecProto::Ah : IpsecProto::Esp;
    e.spi = sa.spi;
    e.inbound = true;
    sink(std::move(e));
}

// Replay check (phase 1) under the SA's lock.
bool replay_check(InSa& sa, uint32_t seq_lo, uint64_t& seq) {
    std::lock_guard<std::mutex> g(sa.replay_mu);
    auto c = sa.replay.check(seq_lo);
    seq = c.seq;
    return c.verdict == ReplayWindow::Verdict::Ok;
}

// Phase 2; false if another thread accepted the same number meanwhile.
bool replay_accept(InSa& sa, uint64_t seq) {
    std::lock_guard<std::mutex> g(sa.replay_mu);
    if (sa.replay.check(uint32_t(seq)).verdict != ReplayWindow::Verdict::Ok) {
        return false;
    }
    sa.replay.accept(seq);
    return true;
}

// The decapsulated payload: tunnel mode inner packet, IPComp, or a
// transport payload that gets its IP header back.
void deliver(InboundCtx& c, InSa& sa, Pkt& p, uint8_t nh, const IpAddress& src,
             const IpAddress& dst) {
    if (nh == kIpprotoComp) {
        // RFC 3173 2.2: next header, flags, CPI, then the compressed data.
        if (!sa.ipcomp || p.len < kIpcompHdr + 1) {
            ++sa.malformed;
            return;
        }
        uint8_t inner_nh = p.data()[0];
        size_t n = c.deflater.decompress(p.data() + kIpcompHdr, p.len - kIpcompHdr,
                                         c.scratch.data(), c.scratch.size());
        if (n == 0 || n > kMaxPacket) {
            ++sa.malformed;
            return;
        }
        p.reset(kHeadroom);
        std::memcpy(p.put(n), c.scratch.data(), n);
        nh = inner_nh;
    }
    if (nh == 59) {
        ++c.stats.dummy;  // RFC 4303 2.6: dummy packet, drop silently
        return;
    }
    if (nh == IPPROTO_IPIP || nh == IPPROTO_IPV6) {
        if (sa.mode != Mode::Tunnel) {
            ++sa.malformed;
            return;
        }
        // The inner header's length ends the packet: TFC padding follows.
        size_t len = inner_ip_length(p.data(), p.len, nh == IPPROTO_IPIP ? 4 : 6);
        if (len == 0) {
            ++sa.malformed;
            return;
        }
        p.len = len;
    } else {
        if (sa.mode != Mode::Transport) {
            ++sa.malformed;
            return;
        }
        if (!push_ip_header(p, src, dst, nh, 0)) {
            ++sa.malformed;
            return;
        }
    }
    PacketFlow f;
    if (!parse_flow(ByteView(p.data(), p.len), f)) {
        ++sa.malformed;
        return;
    }
    // RFC 4301 5.2: the decrypted packet must match the SA's selectors.
    bool allowed = sa.pairs.empty();
    for (const auto& pair : sa.pairs) {
        if (matches_inbound(pair, f)) {
            allowed = true;
            break;
        }
    }
    if (!allowed) {
        ++sa.selector_drops;
        return;
    }
    if (c.gro) {
        c.gro->add(p.data(), p.len);
        return;
    }
    ssize_t w = write(c.tun_fd, p.data(), p.len);
    if (w == ssize_t(p.len)) {
        ++c.stats.tun_out;
    }
}

void input_esp(InboundCtx& c, Pkt& p, const IpAddress& src, const IpAddress& dst,
               InSa* expect_from_ah = nullptr) {
    if (p.len < 8) {
        ++c.stats.malformed;
        return;
    }
    uint32_t spi = get_be32(p.data());
    auto it = c.snap.esp_in.find(spi);
    if (it == c.snap.esp_in.end()) {
        ++c.stats.no_sa;
        return;
    }
    InSa& sa = *it->second;
    if (sa.life.dead.load(std::memory_order_relaxed)) {
        ++c.stats.no_sa;
        return;
    }
    if (expect_from_ah ? expect_from_ah->reqid != sa.reqid : !sa.outer) {
        // AH of one CHILD_SA around ESP of another, or the ESP of an AH+ESP
        // bundle arriving without its AH.
        ++sa.malformed;
        return;
    }
    uint64_t seq = 0;
    if (!replay_check(sa, get_be32(p.data() + 4), seq)) {
        ++sa.replay_drops;
        return;
    }
    uint8_t nh = 0;
    size_t wire_len = p.len;
    auto v = sa.esp[size_t(c.slot)]->open(p, seq, nh);
    if (v != EspTransform::Verdict::Ok) {
        if (v == EspTransform::Verdict::Integrity) {
            ++sa.integrity_failures;
        } else {
            ++sa.malformed;
        }
        return;
    }
    if (!replay_accept(sa, seq)) {
        ++sa.replay_drops;
        return;
    }
    if (sa.outer) {
        count_bytes(sa.life, wire_len, c.now, [&](bool hard) { expire_event(c.sink, sa, hard); });
    }
    deliver(c, sa, p, nh, src, dst);
}

void input_ah(InboundCtx& c, Pkt& p, const IpAddress& src, const IpAddress& dst, bool v6) {
    size_t off = v6 ? 0 : size_t(p.data()[0] & 0x0f) * 4;
    uint32_t spi = 0, seq_lo = 0;
    if (p.len < off || !AhTransform::peek(p.data() + off, p.len - off, spi, seq_lo)) {
        ++c.stats.malformed;
        return;
    }
    auto it = c.snap.ah_in.find(spi);
    if (it == c.snap.ah_in.end()) {
        ++c.stats.no_sa;
        return;
    }
    InSa& sa = *it->second;
    if (sa.life.dead.load(std::memory_order_relaxed)) {
        ++c.stats.no_sa;
        return;
    }
    uint64_t seq = 0;
    if (!replay_check(sa, seq_lo, seq)) {
        ++sa.replay_drops;
        return;
    }
    uint8_t nh = 0;
    size_t wire_len = p.len;
    auto v = sa.ah[size_t(c.slot)]->open(p, src, dst, seq, nh);
    if (v != AhTransform::Verdict::Ok) {
        if (v == AhTransform::Verdict::Integrity) {
            ++sa.integrity_failures;
        } else {
            ++sa.malformed;
        }
        return;
    }
    if (!replay_accept(sa, seq)) {
        ++sa.replay_drops;
        return;
    }
    count_bytes(sa.life, wire_len, c.now, [&](bool hard) { expire_event(c.sink, sa, hard); });
    if (nh == IPPROTO_ESP) {
        if (!sa.inner_esp_spi) {
            ++sa.malformed;
            return;
        }
        input_esp(c, p, src, dst, &sa);
        return;
    }
    deliver(c, sa, p, nh, src, dst);
}

}  // namespace

void Datapath::attach_gro(Worker& w, int tun_fd) {
    if (!cfg_.vnet_hdr || w.gro) {
        return;
    }
    w.gro_buf.resize(kSuperPacket + kHeadroom);
    w.gro = std::make_unique<Coalescer>(w.gro_buf.data(), w.gro_buf.size(),
                                        [this, tun_fd](uint8_t* p, size_t len) {
                                            if (write(tun_fd, p, len) == ssize_t(len)) {
                                                ++stats_.tun_out;
                                            }
                                        });
}

void Datapath::input_udp(ByteView d, const IpAddress& from, const IpAddress& to) {
    std::lock_guard<std::mutex> g(external_mu_);
    if (d.size() < 8 || d.size() > kMaxPacket) {
        ++stats_.malformed;
        return;
    }
    auto snap = snap_.load();
    Worker& w = *external_;
    attach_gro(w, cfg_.tun_fds.front());
    Pkt& p = w.pkts[0];
    p.reset(kHeadroom);
    std::memcpy(p.put(d.size()), d.data(), d.size());
    InboundCtx c{*snap, stats_, w.deflater, w.scratch, w.slot, cfg_.tun_fds.front(), now_ns(),
                 sink_, w.gro.get()};
    input_esp(c, p, from, to);
    if (w.gro) {
        w.gro->flush();  // one datagram at a time: nothing to wait for
    }
}

// Our own ESP-in-UDP socket: coalesced datagrams (UDP GRO) are cut at the
// segment size the kernel reports and each ESP packet is opened on its own.
void Datapath::inbound_udp(Worker& w, int fd, int family, int tun_fd) {
    if (w.udp_big.empty()) {
        w.udp_big.resize(size_t(kUdpBatch) * kUdpBig);
    }
    for (int i = 0; i < kUdpBatch; ++i) {
        w.uiov[i] = {w.udp_big.data() + size_t(i) * kUdpBig, kUdpBig};
        std::memset(&w.umsgs[i].msg_hdr, 0, sizeof(msghdr));
        w.umsgs[i].msg_hdr.msg_iov = &w.uiov[i];
        w.umsgs[i].msg_hdr.msg_iovlen = 1;
        w.umsgs[i].msg_hdr.msg_name = &w.uaddr[i];
        w.umsgs[i].msg_hdr.msg_namelen = sizeof w.uaddr[i];
        w.umsgs[i].msg_hdr.msg_control = w.uctrl[i];
        w.umsgs[i].msg_hdr.msg_controllen = sizeof w.uctrl[i];
    }
    int n = recvmmsg(fd, w.umsgs, kUdpBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
        return;
    }
    auto snap = snap_.load();
    InboundCtx c{*snap, stats_, w.deflater, w.scratch, w.slot, tun_fd, now_ns(), sink_,
                 w.gro.get()};
    IpAddress to = family == AF_INET6 ? IpAddress::v6({}) : IpAddress::v4(0);
    for (int i = 0; i < n; ++i) {
        msghdr& mh = w.umsgs[i].msg_hdr;
        size_t len = w.umsgs[i].msg_len;
        auto from = from_sockaddr(w.uaddr[i]);
        if (!from || (mh.msg_flags & MSG_TRUNC)) {
            ++stats_.malformed;
            continue;
        }
        size_t seg = len;
        for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
                int g = 0;
                std::memcpy(&g, CMSG_DATA(cm), sizeof g);
                if (g > 0) {
                    seg = size_t(g);
                }
            }
        }
        const uint8_t* d = static_cast<const uint8_t*>(w.uiov[i].iov_base);
        for (size_t off = 0; off < len; off += seg) {
            size_t l = len - off < seg ? len - off : seg;
            // RFC 3948 2.2: a keepalive or IKE (zero marker) is not ESP.
            if (l < 8 || l > kMaxPacket || get_be32(d + off) == 0) {
                continue;
            }
            Pkt& p = w.pkts[0];
            p.reset(kHeadroom);
            std::memcpy(p.put(l), d + off, l);
            input_esp(c, p, *from, to);
        }
    }
    if (w.gro) {
        w.gro->flush();
    }
}

void Datapath::inbound_loop(int slot) {
    Worker w;
    w.slot = slot;
    struct Src {
        int fd;
        int family;
        bool ah;
        bool udp;
    };
    std::vector<Src> srcs;
    auto add = [&](int fd, int family, bool ah, bool udp) {
        if (fd >= 0) {
            srcs.push_back({fd, family, ah, udp});
        }
    };
    add(cfg_.raw_esp4, AF_INET, false, false);
    add(cfg_.raw_esp6, AF_INET6, false, false);
    add(cfg_.raw_ah4, AF_INET, true, false);
    add(cfg_.raw_ah6, AF_INET6, true, false);
    add(cfg_.udp4, AF_INET, false, true);
    add(cfg_.udp6, AF_INET6, false, true);
    std::vector<pollfd> pfds;
    for (const auto& s : srcs) {
        pfds.push_back({s.fd, POLLIN, 0});
    }
    pfds.push_back({stop_fd_, POLLIN, 0});
    int tun_fd = cfg_.tun_fds.front();
    attach_gro(w, tun_fd);

    while (!stop_.load()) {
        if (poll(pfds.data(), nfds_t(pfds.size()), -1) < 0 && errno != EINTR) {
            break;
        }
        for (size_t k = 0; k < srcs.size(); ++k) {
            if (!(pfds[k].revents & POLLIN)) {
                continue;
            }
            const Src& s = srcs[k];
            if (s.udp) {
                inbound_udp(w, s.fd, s.family, tun_fd);
                continue;
            }
            for (int i = 0; i < kBatch; ++i) {
                Pkt& p = w.pkts[i];
                p.reset(kHeadroom);
                w.riov[i] = {p.data(), kMaxPacket};
                std::memset(&w.rmsgs[i].msg_hdr, 0, sizeof(msghdr));
                w.rmsgs[i].msg_hdr.msg_iov = &w.riov[i];
                w.rmsgs[i].msg_hdr.msg_iovlen = 1;
                w.rmsgs[i].msg_hdr.msg_name = &w.raddr[i];
                w.rmsgs[i].msg_hdr.msg_namelen = sizeof w.raddr[i];
                w.rmsgs[i].msg_hdr.msg_control = w.rctrl[i];
                w.rmsgs[i].msg_hdr.msg_controllen = sizeof w.rctrl[i];
            }
            int n = recvmmsg(s.fd, w.rmsgs, kBatch, MSG_DONTWAIT, nullptr);
            if (n <= 0) {
                continue;
            }
            auto snap = snap_.load();
            InboundCtx c{*snap,    stats_, w.deflater, w.scratch, slot, tun_fd, now_ns(),
                         sink_,    w.gro.get()};
            for (int i = 0; i < n; ++i) {
                Pkt& p = w.pkts[i];
                const msghdr& mh = w.rmsgs[i].msg_hdr;
                if (mh.msg_flags & MSG_TRUNC) {
                    ++stats_.malformed;
                    continue;
                }
                p.len = w.rmsgs[i].msg_len;
                auto from = from_sockaddr(w.raddr[i]);
                if (!from) {
                    continue;
                }
                IpAddress to = s.family == AF_INET6 ? IpAddress::v6({}) : IpAddress::v4(0);
                if (s.family == AF_INET && !s.udp) {
                    // Raw IPv4 sockets deliver the IP header.
                    if (p.len < kIpv4Hdr) {
                        ++stats_.malformed;
                        continue;
                    }
                    to = *IpAddress::from_bytes(p.data() + 16, 4);
                    if (!s.ah) {
                        size_t ihl = size_t(p.data()[0] & 0x0f) * 4;
                        if (ihl < kIpv4Hdr || ihl > p.len) {
                            ++stats_.malformed;
                            continue;
                        }
                        p.pull(ihl);
                    }
                } else if (s.family == AF_INET6 && !s.udp) {
                    for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(
                             const_cast<msghdr*>(&mh), cm)) {
                        if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
                            in6_pktinfo pi;
                            std::memcpy(&pi, CMSG_DATA(cm), sizeof pi);
                            to = *IpAddress::from_bytes(
                                reinterpret_cast<const uint8_t*>(&pi.ipi6_addr), 16);
                        }
                    }
                }
                if (s.udp) {
                    // RFC 3948 2.2: a NAT keepalive (one 0xff byte) or IKE
                    // (four zero bytes) is not ESP; the IKE owner gets those.
                    if (p.len < 8 || get_be32(p.data()) == 0) {
                        continue;
                    }
                }
                if (s.ah) {
                    input_ah(c, p, *from, to, s.family == AF_INET6);
                } else {
                    input_esp(c, p, *from, to);
                }
            }
            if (w.gro) {
                w.gro->flush();  // the batch is done: what is joined goes out
            }
        }
    }
}

// ---------------------------------------------------------------- outbound

// Send what the batch holds, per socket; a packet the kernel refuses is
// counted and skipped.
void Datapath::send_batches(Worker& w) {
    int fds[kSockCount] = {udp_out4_.load(std::memory_order_relaxed),
                           udp_out6_.load(std::memory_order_relaxed), cfg_.raw_esp4,
                           cfg_.raw_esp6, cfg_.raw_ah4, cfg_.raw_ah6};
    for (int k = 0; k < kSockCount; ++k) {
        auto& b = w.send[k];
        if ((k == kUdp4 || k == kUdp6) && b.n > 1 && udp_gso_.load(std::memory_order_relaxed) &&
            fds[k] >= 0) {
            send_udp_gso(w, k, fds[k]);
            continue;
        }
        int done = 0;
        while (done < b.n) {
            int r = fds[k] < 0 ? -1 : sendmmsg(fds[k], b.msgs + done, unsigned(b.n - done), 0);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) {
                    continue;
                }
                ++stats_.send_errors;
                ++done;
                continue;
            }
            done += r;
        }
        b.n = 0;
    }
}

// ESP-in-UDP with UDP GSO: consecutive packets to the same peer from the
// same address, all of one size (the last may be shorter), leave in one send
// of their iovecs with UDP_SEGMENT: the kernel routes once and cuts them.
void Datapath::send_udp_gso(Worker& w, int sock, int fd) {
    auto& b = w.send[sock];
    int nmsg = 0;
    for (int i = 0; i < b.n;) {
        const msghdr& first = b.msgs[i].msg_hdr;
        size_t seg = b.iov[i].iov_len;
        size_t total = seg;
        int j = i + 1;
        while (j < b.n && j - i < kGsoMaxSegments && total + b.iov[j].iov_len <= 65000) {
            const msghdr& m = b.msgs[j].msg_hdr;
            if (m.msg_namelen != first.msg_namelen ||
                std::memcmp(m.msg_name, first.msg_name, first.msg_namelen) != 0 ||
                m.msg_controllen != first.msg_controllen ||
                std::memcmp(m.msg_control, first.msg_control, first.msg_controllen) != 0 ||
                b.iov[j].iov_len > seg) {
                break;
            }
            total += b.iov[j].iov_len;
            bool shorter = b.iov[j].iov_len < seg;
            ++j;
            if (shorter) {
                break;  // only the last segment may be shorter
            }
        }
        msghdr& mh = w.gso_msgs[nmsg].msg_hdr;
        mh = first;
        mh.msg_iov = &b.iov[i];
        mh.msg_iovlen = size_t(j - i);
        uint8_t* ctrl = w.gso_ctrl[nmsg];
        std::memcpy(ctrl, first.msg_control, first.msg_controllen);
        mh.msg_control = ctrl;
        mh.msg_controllen = first.msg_controllen;
        if (j - i > 1) {
            cmsghdr* c = reinterpret_cast<cmsghdr*>(ctrl + first.msg_controllen);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t gso = uint16_t(seg);
            std::memcpy(CMSG_DATA(c), &gso, sizeof gso);
            mh.msg_controllen += CMSG_SPACE(sizeof(uint16_t));
        }
        ++nmsg;
        i = j;
    }
    int done = 0;
    while (done < nmsg) {
        int r = sendmmsg(fd, w.gso_msgs + done, unsigned(nmsg - done), 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r < 0 && (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT) &&
                w.gso_msgs[done].msg_hdr.msg_iovlen > 1) {
                // A kernel or device without UDP GSO: from now on one by one.
                udp_gso_.store(false);
            }
            ++stats_.send_errors;
            ++done;
            continue;
        }
        done += r;
    }
    b.n = 0;
}

// One IP packet read from TUN (or cut from a TSO packet): policy lookup,
// IPComp, ESP, AH, and a place in the send batch of its socket.
void Datapath::outbound_packet(Worker& w, const Snapshot& snap, int64_t now, Pkt& p) {
    PacketFlow f;
    if (!parse_flow(ByteView(p.data(), p.len), f)) {
        ++stats_.malformed;
        return;
    }
    const SpdEntry* hit = nullptr;
    for (const auto& e : snap.spd) {
        if (matches_outbound(e.pair, f)) {
            hit = &e;
            break;
        }
    }
    if (!hit) {
        ++stats_.no_policy;
        return;
    }
    if (!hit->sa) {
        // A trap: ask for the CHILD_SA (rate-limited), drop the packet.
        int64_t last = hit->trap->last_acquire_ns.load();
        if (now - last >= kAcquireIntervalNs &&
            hit->trap->last_acquire_ns.compare_exchange_strong(last, now)) {
            SaEvent e;
            e.kind = SaEvent::Kind::Acquire;
            e.reqid = hit->reqid;
            e.conn = hit->conn;
            e.src = f.src;
            e.dst = f.dst;
            e.ip_proto = f.proto;
            e.src_port = f.src_port;
            e.dst_port = f.dst_port;
            if (f.proto == IPPROTO_ICMP || f.proto == IPPROTO_ICMPV6) {
                // as the kernel reports it: type and code
                e.src_port = f.src_port >> 8;
                e.dst_port = f.src_port & 0xff;
            }
            ++stats_.acquires;
            sink_(std::move(e));
        }
        return;
    }
    OutSa& sa = *hit->sa;
    if (sa.life.dead.load(std::memory_order_relaxed)) {
        return;
    }
    size_t inner_len = p.len;
    uint8_t nh;
    if (sa.mode == Mode::Tunnel) {
        nh = f.src.is_v4() ? IPPROTO_IPIP : IPPROTO_IPV6;
    } else {
        if (f.src != sa.local || f.dst != sa.remote) {
            ++stats_.no_policy;
            return;
        }
        size_t hl = f.src.is_v4() ? size_t(p.data()[0] & 0x0f) * 4 : kIpv6Hdr;
        nh = f.src.is_v4() ? p.data()[9] : p.data()[6];
        p.pull(hl);
    }
    if (sa.cpi && p.len >= kIpcompThreshold) {
        size_t n = w.deflater.compress(p.data(), p.len, w.scratch.data(),
                                       p.len - kIpcompHdr);
        if (n) {
            // RFC 3173 2.2: next header, flags (0), CPI.
            uint8_t* h = p.data();
            h[0] = nh;
            h[1] = 0;
            put_be16(h + 2, *sa.cpi);
            std::memcpy(h + kIpcompHdr, w.scratch.data(), n);
            p.len = kIpcompHdr + n;
            nh = kIpprotoComp;
        }
    }
    auto overflow = [&](std::atomic<uint64_t>& ctr) -> uint64_t {
        uint64_t s = ctr.fetch_add(1, std::memory_order_relaxed) + 1;
        // RFC 4303 3.3.3: the counter never cycles; the SA ends.
        uint64_t max = sa.esn ? ~uint64_t(0) : 0xffffffffULL;
        if (s > max || s == 0) {
            if (!sa.life.dead.exchange(true)) {
                SaEvent e;
                e.kind = SaEvent::Kind::HardExpire;
                e.reqid = sa.reqid;
                e.conn = sa.conn;
                e.spi = sa.outer_spi();
                e.proto = sa.ah_spi ? IpsecProto::Ah : IpsecProto::Esp;
                sink_(std::move(e));
            }
            return 0;
        }
        return s;
    };
    int sock;
    if (sa.esp_spi) {
        uint64_t seq = overflow(sa.esp_seq);
        size_t tfc = sa.tfc && sa.mode == Mode::Tunnel ? size_t(cfg_.mtu) : 0;
        if (!seq || !sa.esp[size_t(w.slot)]->seal(p, sa.esp_spi, seq, nh, tfc)) {
            ++sa.send_errors;
            return;
        }
        nh = IPPROTO_ESP;
    }
    if (sa.ah_spi) {
        uint64_t seq = overflow(sa.ah_seq);
        uint16_t id = sa.ip_id.fetch_add(1, std::memory_order_relaxed);
        if (!seq ||
            !sa.ah[size_t(w.slot)]->seal(p, sa.local, sa.remote, sa.ah_spi, seq, nh, id)) {
            ++sa.send_errors;
            return;
        }
        sock = sa.local.is_v4() ? kAh4 : kAh6;
    } else if (sa.encap) {
        sock = sa.local.is_v4() ? kUdp4 : kUdp6;
    } else {
        sock = sa.local.is_v4() ? kEsp4 : kEsp6;
    }
    count_bytes(sa.life, inner_len, now, [&](bool hard) {
        SaEvent e;
        e.kind = hard ? SaEvent::Kind::HardExpire : SaEvent::Kind::SoftExpire;
        e.reqid = sa.reqid;
        e.conn = sa.conn;
        e.spi = sa.outer_spi();
        e.proto = sa.ah_spi ? IpsecProto::Ah : IpsecProto::Esp;
        sink_(std::move(e));
    });
    auto& b = w.send[sock];
    int k = b.n++;
    msghdr& mh = b.msgs[k].msg_hdr;
    std::memset(&mh, 0, sizeof mh);
    b.iov[k] = {p.data(), p.len};
    mh.msg_iov = &b.iov[k];
    mh.msg_iovlen = 1;
    uint16_t port = sock == kUdp4 || sock == kUdp6 ? sa.encap->remote_port : 0;
    mh.msg_name = &b.addr[k];
    mh.msg_namelen = to_sockaddr(sa.remote, port, b.addr[k]);
    if (sock != kAh4) {
        // The source address of the SA (IPv4 AH carries its own header).
        add_pktinfo(mh, b.ctrl[k], sa.local);
    }
}

void Datapath::outbound_loop(int slot) {
    Worker w;
    w.slot = slot;
    int tun_fd = cfg_.tun_fds[size_t(slot)];
    pollfd pfds[2] = {{tun_fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    size_t read_cap = size_t(cfg_.mtu) < kMaxPacket ? size_t(cfg_.mtu) : kMaxPacket;
    if (cfg_.vnet_hdr) {
        w.big.resize(kSuperPacket);
    }
    int used = 0;  // packet buffers taken in this batch
    auto flush = [&]() {
        send_batches(w);
        used = 0;
    };
    auto next_slot = [&]() -> Pkt& {
        if (used == kBatch) {
            flush();
        }
        Pkt& p = w.pkts[used++];
        p.reset(kHeadroom);
        return p;
    };

    while (!stop_.load()) {
        if (poll(pfds, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if ((pfds[1].revents & POLLIN) || (pfds[0].revents & (POLLERR | POLLHUP | POLLNVAL))) {
            break;  // stopping, or the TUN device is gone
        }
        bool empty = false;
        while (!empty) {
            auto snap = snap_.load();
            int64_t now = now_ns();
            for (int reads = 0; reads < kBatch; ++reads) {
                if (!cfg_.vnet_hdr) {
                    Pkt& p = next_slot();
                    ssize_t r = read(tun_fd, p.data(), read_cap);
                    if (r <= 0) {
                        --used;
                        empty = true;
                        break;
                    }
                    p.len = size_t(r);
                    ++stats_.tun_in;
                    outbound_packet(w, *snap, now, p);
                    continue;
                }
                // With offloads every read starts with a virtio_net_hdr and
                // may be a TCP super-packet to cut into segments here.
                ssize_t r = read(tun_fd, w.big.data(), w.big.size());
                if (r <= 0) {
                    empty = true;
                    break;
                }
                ++stats_.tun_in;
                if (size_t(r) < VnetHdr::kSize) {
                    ++stats_.malformed;
                    continue;
                }
                VnetHdr h = VnetHdr::read(w.big.data());
                uint8_t* ip = w.big.data() + VnetHdr::kSize;
                size_t len = size_t(r) - VnetHdr::kSize;
                if ((h.gso_type & ~VnetHdr::kGsoEcn) != VnetHdr::kGsoNone) {
                    Pkt* cur = nullptr;
                    int n = tcp_segment(
                        ip, len, h.gso_size,
                        [&](size_t need) -> uint8_t* {
                            if (need > kMaxPacket) {
                                return nullptr;
                            }
                            cur = &next_slot();
                            return cur->data();
                        },
                        [&](size_t seg) {
                            cur->len = seg;
                            outbound_packet(w, *snap, now, *cur);
                        });
                    if (n < 0) {
                        ++stats_.malformed;
                    }
                    continue;
                }
                if (len > kMaxPacket || !finish_checksum(ip, len, h)) {
                    ++stats_.malformed;
                    continue;
                }
                Pkt& p = next_slot();
                std::memcpy(p.put(len), ip, len);
                outbound_packet(w, *snap, now, p);
            }
            flush();
        }
    }
}

}  // namespace qvpn::sa::us
